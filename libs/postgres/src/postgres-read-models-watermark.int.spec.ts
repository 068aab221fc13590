import { IamError } from '@arbor/domain';
import { Pool } from 'pg';
import { openPostgresReadModels, type PostgresReadModels } from './postgres-read-models';
import { PostgresProjectionWatermark, waitForCheckpoint } from './postgres-read-models-watermark';
import { describeWithEnv, Log } from '@arbor/testing';
import { DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

/** Whether a promise has settled after the event loop had `ms` to run. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

maybe('PostgresProjectionWatermark', () => {
  const schema = randomSchema('rm_watermark');
  let rm: PostgresReadModels;
  let pool: Pool;
  let log: Log;
  const watermarks: PostgresProjectionWatermark[] = [];
  const watermark = (options?: { pollIntervalMs?: number }, source: Pool | string = DATABASE_URL) => {
    const w = new PostgresProjectionWatermark(source, schema, options);
    watermarks.push(w);
    return w;
  };

  beforeAll(async () => {
    rm = await openPostgresReadModels(DATABASE_URL, { schema, poolSize: 2 });
    pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  beforeEach(async () => {
    await rm.reset();
    log = new Log();
    await rm.apply([log.created('r', 'Root', null), log.created('a', 'A', 'r')]);
  });
  afterEach(async () => {
    await Promise.all(watermarks.splice(0).map((w) => w.close()));
  });
  afterAll(async () => {
    await rm?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it('resolves at once for a position already reached (the read after LISTEN)', async () => {
    const w = watermark({ pollIntervalMs: 60_000 });
    const started = Date.now();
    await w.waitFor(2);
    await w.waitFor(1);
    await w.waitFor(0);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('resolves through NOTIFY once apply commits the position, without polling', async () => {
    const w = watermark({ pollIntervalMs: 60_000 });
    await w.waitFor(2);
    const third = w.waitFor(3);
    const fourth = w.waitFor(4);
    expect(await settledWithin(third, 100)).toBe(false);
    const started = Date.now();
    await rm.apply([log.created('b', 'B', 'r')]);
    await third;
    expect(await settledWithin(fourth, 100)).toBe(false);
    await rm.apply([log.created('c', 'C', 'r'), log.created('d', 'D', 'r')]);
    await fourth;
    await w.waitFor(5);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await rm.orgs.get('c'))?.name).toBe('C');
  });

  it('resolves on the first wait too, when apply commits while LISTEN is being set up', async () => {
    const w = watermark({ pollIntervalMs: 60_000 });
    const waiting = w.waitFor(3, 5000);
    await rm.apply([log.created('b', 'B', 'r')]);
    await waiting;
  });

  it('times out with IAM_ERR_UNAVAILABLE when the position is not reached', async () => {
    const w = watermark();
    const started = Date.now();
    const err = await w.waitFor(100, 400).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IamError);
    expect(err).toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    await w.waitFor(2, 1000);
  });

  it('falls back on polling when a notification is lost', async () => {
    const w = watermark({ pollIntervalMs: 50 });
    await w.waitFor(2);
    const waiting = w.waitFor(7, 3000);
    // Advance the checkpoint behind the projector's back: no NOTIFY.
    await pool.query(`UPDATE "${schema}".checkpoint SET position = 7`);
    await waiting;
  });

  it('follows a reset: the announced 0 replaces what was known', async () => {
    const w = watermark({ pollIntervalMs: 60_000 });
    await w.waitFor(2);
    await rm.reset();
    await rm.apply([log.created('x', 'X', null)]);
    // Notifications arrive in commit order: once 3 is known, the reset's 0 came before it.
    await w.waitFor(3);
    await rm.reset();
    log = new Log();
    await rm.apply([log.created('r', 'Root', null)]);
    await w.waitFor(1);
    await expect(w.waitFor(2, 300)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
  });

  it('works on a shared pool and leaves it open', async () => {
    const shared = new Pool({ connectionString: DATABASE_URL, max: 3 });
    try {
      const w = new PostgresProjectionWatermark(shared, schema);
      const waiting = w.waitFor(3, 5000);
      await rm.apply([log.created('b', 'B', 'r')]);
      await waiting;
      await w.close();
      expect((await shared.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await waitForCheckpoint(shared, schema, 3, 1000);
    } finally {
      await shared.end();
    }
  });

  it('rejects pending and later waits with IAM_ERR_UNAVAILABLE once closed', async () => {
    const w = new PostgresProjectionWatermark(DATABASE_URL, schema);
    const pending = expect(w.waitFor(50, 10_000)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
    await w.close();
    await pending;
    await expect(w.waitFor(1)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
    await w.close();
  });

  it('reports IAM_ERR_UNAVAILABLE when PostgreSQL is unreachable', async () => {
    const w = watermark({}, 'postgres://arbor:arbor@127.0.0.1:1/arbor_test');
    await expect(w.waitFor(1, 600)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
    await expect(
      waitForCheckpoint('postgres://arbor:arbor@127.0.0.1:1/arbor_test', schema, 1, 300),
    ).rejects.toBeInstanceOf(IamError);
  });
});
