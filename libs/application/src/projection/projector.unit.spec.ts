import type { StoredEvent } from '@arbor/domain';
import type { Bus } from '../ports/bus';
import type { EventStore } from '../ports/event-store';
import type { ReadModels } from '../ports/read-models';
import type { Logger } from '../logger';
import type { PersonalDataCipher } from '../security/personal-data-cipher';
import { Projector } from './projector';

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
