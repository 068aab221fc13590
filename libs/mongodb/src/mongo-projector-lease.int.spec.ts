import { IamError } from '@arbor/domain';
import { describeWithEnv, Log } from '@arbor/testing';
import { MongoProjectionWatermark } from './mongo-projection-watermark';
import { MongoProjectorLease } from './mongo-projector-lease';
import type { MongoReadModels } from './mongo-read-models';
import { dropDatabase, openTestReadModels, randomDatabase } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('the projector lease and the watermark of the MongoDB read models', () => {
  const database = randomDatabase('lease');
  let rm: MongoReadModels;
  const leases: MongoProjectorLease[] = [];
  const lease = (owner: string, ttlMs = 1500, renewEveryMs = 200, onLost?: (reason: string) => void) => {
    const made = new MongoProjectorLease(rm.db, owner, { ttlMs, renewEveryMs, onLost });
    leases.push(made);
    return made;
  };

  beforeAll(async () => {
    rm = await openTestReadModels(database);
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.release()));
    rm.guardWrites(() => undefined);
  });
  afterAll(async () => {
    await rm.close();
    await dropDatabase(database);
  });

  it('lets one owner hold it; a second is told who holds it, and takes it once released', async () => {
    const one = lease('one');
    const two = lease('two');
    expect(await one.tryAcquire()).toBeUndefined();
    expect(one.held).toBe(true);
    expect(await two.tryAcquire()).toEqual({ owner: 'one', expiresAt: expect.any(Number) });
    expect(two.held).toBe(false);
    // The same owner (a restarted process with the same name) takes it again at once.
    expect(await one.tryAcquire()).toBeUndefined();
    await one.release();
    expect(await two.tryAcquire()).toBeUndefined();
    expect(two.held).toBe(true);
  });

  it('is renewed while held, and taken over after a holder stops renewing (as after SIGKILL)', async () => {
    const one = lease('one');
    expect(await one.tryAcquire()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 2000));
    // Renewed past its first expiry (1.5 s).
    expect(await lease('two').tryAcquire()).toMatchObject({ owner: 'one' });
    // A holder that stops renewing without releasing: a killed process.
    (one as unknown as { renewTimer: NodeJS.Timeout }).renewTimer.unref();
    clearInterval((one as unknown as { renewTimer: NodeJS.Timeout }).renewTimer);
    const waiter = lease('three');
    const started = Date.now();
    const told: string[] = [];
    await waiter.acquire((holder) => told.push(holder.owner));
    expect(told).toEqual(['one']);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(waiter.held).toBe(true);
  });

  it('tells a holder overtaken after its expiry at its next renewal, and its writes are refused', async () => {
    const lost: string[] = [];
    const one = lease('one', 1500, 200, (reason) => lost.push(reason));
    expect(await one.tryAcquire()).toBeUndefined();
    rm.guardWrites(() => one.assertHeld());
    const log = new Log();
    expect(await rm.apply([log.created('a', 'A', null)])).toBeGreaterThan(0);
    // Another process takes it as if the holder's lease had expired (a holder paused past its expiry).
    await rm.db.collection('leases').updateOne({ _id: 'projector' as never }, { $set: { expiresAt: 0 } });
    expect(await lease('two').tryAcquire()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 600));
    expect(lost).toEqual(['another projector took it over']);
    expect(one.held).toBe(false);
    await expect(rm.apply([log.created('b', 'B', null)])).rejects.toThrow(/lease was lost/);
    await expect(rm.reset()).rejects.toThrow(/lease was lost/);
  });

  it('is kept out of the read models: reset leaves it', async () => {
    const one = lease('one');
    expect(await one.tryAcquire()).toBeUndefined();
    rm.guardWrites(() => one.assertHeld());
    await rm.reset();
    expect(await lease('two').tryAcquire()).toMatchObject({ owner: 'one' });
  });

  it('watermark: resolves once the checkpoint reaches the position, rejects with IAM_ERR_UNAVAILABLE on timeout', async () => {
    await rm.reset();
    const watermark = new MongoProjectionWatermark(rm, { pollIntervalMs: 10 });
    try {
      const log = new Log();
      const events = [log.created('w1', 'W1', null), log.created('w2', 'W2', null)];
      let reached = false;
      const waiting = watermark.waitFor(events[1]!.position, 5000).then(() => (reached = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(reached).toBe(false);
      await rm.apply(events.slice(0, 1));
      await new Promise((r) => setTimeout(r, 100));
      expect(reached).toBe(false);
      await rm.apply(events);
      await waiting;
      expect(reached).toBe(true);
      // Already known: at once.
      await watermark.waitFor(events[0]!.position, 1);
      const late = watermark.waitFor(events[1]!.position + 1, 200);
      await expect(late).rejects.toBeInstanceOf(IamError);
      await expect(watermark.waitFor(events[1]!.position + 1, 200)).rejects.toMatchObject({
        code: 'IAM_ERR_UNAVAILABLE',
      });
    } finally {
      await watermark.close();
    }
    await expect(watermark.waitFor(1)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
  });
});
