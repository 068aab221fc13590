import type { StoredEvent } from '@arbor/domain';
import type { Bus } from '../ports/bus';
import type { EventStore } from '../ports/event-store';
import type { ReadModels } from '../ports/read-models';
import type { Logger } from '../logger';
import type { PersonalDataCipher } from '../security/personal-data-cipher';
import { PROJECTION_LOG_SWEEP_MS, Projector } from './projector';

/**
 * Projector.stop at a clean shutdown: it waits for the catch-up under way, reads no further batch, and reports no
 * failure of what the closing stores cut short (a projector process logged "projection failed" on every SIGTERM).
 */
describe('Projector.stop', () => {
  const event = (position: number) => ({ position, type: 'OrgDeleted', data: {} }) as unknown as StoredEvent;

  function harness() {
    const errors: string[] = [];
    let release: () => void = () => undefined;
    let closed = false;
    let reads = 0;
    const store = {
      readAll: async ({ after }: { after: number }) => {
        reads++;
        if (closed) throw new Error('The event store is closed.');
        if (after === 0) return [event(1)];
        if (after === 1) {
          // The second batch arrives only when the test lets it: the stop comes meanwhile.
          await new Promise<void>((r) => (release = r));
          if (closed) throw new Error('The event store is closed.');
          return [event(2)];
        }
        return [];
      },
    } as unknown as EventStore;
    let checkpoint = 0;
    const readModels = {
      checkpoint: async () => checkpoint,
      apply: async (events: StoredEvent[]) => (checkpoint = events[events.length - 1].position),
    } as unknown as ReadModels;
    const cipher = { openMany: async () => [] } as unknown as PersonalDataCipher;
    const bus = { subscribe: () => () => undefined } as unknown as Bus;
    const log = {
      error: (m: string) => errors.push(m),
      warn: () => undefined,
      info: () => undefined,
    } as unknown as Logger;
    const projector = new Projector({ store, readModels, cipher, bus, log, batchSize: 1 });
    return {
      projector,
      errors,
      reads: () => reads,
      release: () => release(),
      close: () => (closed = true),
    };
  }

  it('resolves only once the catch-up under way has ended, and logs no failure of a batch the close cut short', async () => {
    const h = harness();
    const started = h.projector.start();
    await new Promise((r) => setTimeout(r, 10));
    let stopped = false;
    const stopping = h.projector.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).toBe(false);
    h.close();
    h.release();
    await stopping;
    await started;
    expect(h.errors).toEqual([]);
    expect(h.projector.position).toBe(1);
  });

  it('reads no batch after the stop once the one in flight is applied', async () => {
    const h = harness();
    const started = h.projector.start();
    await new Promise((r) => setTimeout(r, 10));
    const stopping = h.projector.stop();
    // The read of the second batch is under way: it is the last.
    const readsAtStop = h.reads();
    h.release();
    await stopping;
    await started;
    expect(h.projector.position).toBe(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.reads()).toBe(readsAtStop);
    expect(h.errors).toEqual([]);
  });

  it('poll() reads nothing while a failed catch-up waits for its retry (the backoff holds)', async () => {
    let reads = 0;
    const errors: string[] = [];
    const projector = new Projector({
      store: {
        readAll: async () => {
          reads++;
          throw new Error('store down');
        },
      } as unknown as EventStore,
      readModels: { checkpoint: async () => 0 } as unknown as ReadModels,
      cipher: { openMany: async () => [] } as unknown as PersonalDataCipher,
      bus: { subscribe: () => () => undefined } as unknown as Bus,
      log: { error: (m: string) => errors.push(m), warn: () => undefined, info: () => undefined } as unknown as Logger,
    });
    await projector.start();
    expect([reads, errors.length]).toEqual([1, 1]);
    for (let i = 0; i < 5; i++) projector.poll();
    await new Promise((r) => setTimeout(r, 10));
    expect([reads, errors.length]).toEqual([1, 1]);
    await projector.stop();
  });
});

/**
 * Deliveries from the bus: the commands of one group commit publish one after another as their callers resume, so
 * the projector gathers one turn of the event loop's deliveries into one read-model transaction (one commit for the
 * group, not one for its first command and another for the rest), and reads the log only when they do not continue
 * its checkpoint or more arrived during the apply.
 */
describe('Projector deliveries', () => {
  const event = (position: number) => ({ position, type: 'OrgDeleted', data: {} }) as unknown as StoredEvent;

  function harness(logLength = 0, logSweepMs?: number) {
    const log = Array.from({ length: logLength }, (_, i) => event(i + 1));
    const batches: number[][] = [];
    let reads = 0;
    let deliver: (events: StoredEvent[]) => void = () => undefined;
    let checkpoint = 0;
    let applying: Promise<void> = Promise.resolve();
    let failReads = false;
    const projector = new Projector({
      store: {
        readAll: async ({ after }: { after: number }) => {
          reads++;
          if (failReads) throw new Error('store down');
          return log.filter((e) => e.position > after);
        },
      } as unknown as EventStore,
      readModels: {
        checkpoint: async () => checkpoint,
        apply: async (events: StoredEvent[]) => {
          batches.push(events.map((e) => e.position));
          await applying;
          return (checkpoint = events[events.length - 1].position);
        },
      } as unknown as ReadModels,
      cipher: { openMany: async () => [] } as unknown as PersonalDataCipher,
      bus: {
        subscribe: (handler: (events: StoredEvent[]) => void) => {
          deliver = handler;
          return () => undefined;
        },
      } as unknown as Bus,
      log: { error: () => undefined, warn: () => undefined, info: () => undefined } as unknown as Logger,
      logSweepMs,
    });
    /** Appends to the log and delivers, as a command does after its commit. */
    const commit = (...positions: number[]) => {
      const events = positions.map(event);
      log.push(...events);
      deliver(events);
    };
    return {
      projector,
      commit,
      appendQuietly: (position: number) => log.push(event(position)),
      batches,
      reads: () => reads,
      failReads: (on: boolean) => (failReads = on),
      /** Makes the next applies wait until the returned function is called. */
      hold: () => {
        let release: () => void = () => undefined;
        applying = new Promise((r) => (release = r));
        return () => release();
      },
    };
  }
  const settle = () => new Promise((r) => setTimeout(r, 10));
  /** Longer than PROJECTION_LOG_SWEEP_MS: the read of the log after applied deliveries has run. */
  const sweep = () => new Promise((r) => setTimeout(r, PROJECTION_LOG_SWEEP_MS + 30));

  it('applies the deliveries of one turn as one batch, reading the log only for what follows them', async () => {
    const h = harness();
    await h.projector.start();
    const readsAtStart = h.reads();
    h.commit(1);
    h.commit(2, 3);
    h.commit(4);
    await h.projector.waitFor(4);
    await settle();
    expect(h.batches).toEqual([[1, 2, 3, 4]]);
    // None of what they carry is read back; the log is read for what may follow them, once, a little later.
    expect(h.reads()).toBe(readsAtStart);
    await sweep();
    expect(h.reads()).toBe(readsAtStart + 1);
    await h.projector.stop();
  });

  it('reads the log once per sweep interval under a steady stream of single commits, not once per commit', async () => {
    const h = harness();
    await h.projector.start();
    const readsAtStart = h.reads();
    for (let position = 1; position <= 5; position++) {
      h.commit(position);
      await new Promise((r) => setImmediate(r));
      await h.projector.waitFor(position);
    }
    expect(h.batches).toEqual([[1], [2], [3], [4], [5]]);
    await sweep();
    expect(h.reads()).toBe(readsAtStart + 1);
    await h.projector.stop();
  });

  it('projects a commit that was never delivered after the delivered ones (a process that died before publishing)', async () => {
    const h = harness();
    await h.projector.start();
    h.commit(1);
    h.appendQuietly(2);
    await sweep();
    expect(h.batches).toEqual([[1], [2]]);
    expect(h.projector.position).toBe(2);
    await h.projector.stop();
  });

  it('reads the log when the deliveries leave a gap, or when more arrive during the apply', async () => {
    const h = harness(2);
    await h.projector.start();
    expect(h.batches).toEqual([[1, 2]]);
    // Position 3 was committed by another process: the delivery of 4 does not continue the checkpoint.
    h.commit(3);
    h.batches.length = 0;
    h.commit(4);
    // Not applied out of order, and not lost: read from the log.
    await h.projector.waitFor(4);
    expect(h.batches).toEqual([[3, 4]]);

    const release = h.hold();
    h.commit(5);
    await settle();
    h.commit(6);
    release();
    await h.projector.waitFor(6);
    expect(h.batches.slice(1)).toEqual([[5], [6]]);
    await h.projector.stop();
  });

  it('reads the log for a waiter beyond what was delivered (a commit of another process)', async () => {
    // No sweep in the test's time: the waiter's own read must find it.
    const h = harness(0, 60_000);
    await h.projector.start();
    h.commit(1);
    // Appended by another process, delivered nowhere, while this process's delivery waits for the turn's end.
    h.appendQuietly(2);
    await h.projector.waitFor(2, 1000);
    expect(h.batches).toEqual([[1], [2]]);
    await h.projector.stop();
  });

  it('reads the log at once after a delivery while a failed read waits for its retry, and stays unhealthy', async () => {
    const h = harness(0, 60_000);
    await h.projector.start();
    h.failReads(true);
    h.projector.poll();
    await settle();
    expect(h.projector.healthy).toBe(false);
    const readsBefore = h.reads();
    h.commit(1);
    await settle();
    expect(h.batches).toEqual([[1]]);
    expect(h.reads()).toBe(readsBefore + 1);
    expect(h.projector.healthy).toBe(false);
    await h.projector.stop();
  });

  it('drops a pending read of the log at the stop', async () => {
    const h = harness();
    await h.projector.start();
    h.commit(1);
    await settle();
    expect(h.batches).toEqual([[1]]);
    const readsAtStop = h.reads();
    await h.projector.stop();
    await sweep();
    expect(h.reads()).toBe(readsAtStop);
  });

  it('gathers nothing after the stop', async () => {
    const h = harness();
    await h.projector.start();
    h.commit(1);
    await h.projector.stop();
    await settle();
    expect(h.batches).toEqual([]);
  });
});
