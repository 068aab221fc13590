import { IamError } from '@arbor/domain';
import { CheckpointWatermark } from './checkpoint-watermark';

/** A checkpoint source the test moves by hand, counting its reads; `failing` makes reads throw. */
function source(start = 0) {
  const s = {
    position: start,
    reads: 0,
    failing: false,
    read: async () => {
      s.reads++;
      if (s.failing) throw new Error('read models unreachable');
      return s.position;
    },
  };
  return s;
}

/** Settles a promise's outcome without awaiting it, so a test can see that it is still pending. */
function track(promise: Promise<void>) {
  const state: { settled: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { settled: 'pending' };
  promise.then(
    () => (state.settled = 'resolved'),
    (error: unknown) => {
      state.settled = 'rejected';
      state.error = error;
    },
  );
  return state;
}

describe('CheckpointWatermark: observe, waits, polling, close', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves at once for a position already observed, and reads nothing for it', async () => {
    const s = source();
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 50 });
    expect(watermark.observed).toBe(-1);
    watermark.observe(7);
    expect(watermark.observed).toBe(7);
    await expect(watermark.waitFor(7)).resolves.toBeUndefined();
    await expect(watermark.waitFor(3)).resolves.toBeUndefined();
    expect(s.reads).toBe(0);
  });

  it('wakes a waiter when a checkpoint at or past its position is observed, not before', async () => {
    const s = source();
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 60_000 });
    const waiting = track(watermark.waitFor(5));
    await jest.advanceTimersByTimeAsync(0);
    watermark.observe(4);
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting.settled).toBe('pending');
    watermark.observe(6);
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting.settled).toBe('resolved');
  });

  it('reads the checkpoint every pollIntervalMs while anyone waits (a lost announcement only delays), never otherwise', async () => {
    const s = source(1);
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 50 });
    await jest.advanceTimersByTimeAsync(500);
    expect(s.reads).toBe(0);
    const waiting = track(watermark.waitFor(3));
    await jest.advanceTimersByTimeAsync(0);
    expect(s.reads).toBe(1); // at once
    await jest.advanceTimersByTimeAsync(150);
    expect(s.reads).toBe(4);
    expect(waiting.settled).toBe('pending');
    s.position = 3; // committed, but nobody announces it
    await jest.advanceTimersByTimeAsync(50);
    expect(waiting.settled).toBe('resolved');
    expect(watermark.observed).toBe(3);
    const readsWhenDone = s.reads;
    await jest.advanceTimersByTimeAsync(500);
    expect(s.reads).toBe(readsWhenDone);
  });

  it('keeps polling through failed reads, and the waiter still resolves once a read works', async () => {
    const s = source(0);
    s.failing = true;
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 50 });
    const waiting = track(watermark.waitFor(2));
    await jest.advanceTimersByTimeAsync(200);
    expect(s.reads).toBeGreaterThanOrEqual(4);
    expect(waiting.settled).toBe('pending');
    s.failing = false;
    s.position = 2;
    await jest.advanceTimersByTimeAsync(50);
    expect(waiting.settled).toBe('resolved');
  });

  it('rejects with IAM_ERR_UNAVAILABLE after timeoutMs, and stops polling for it', async () => {
    const s = source(0);
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 50 });
    const waiting = track(watermark.waitFor(9, 1_000));
    await jest.advanceTimersByTimeAsync(999);
    expect(waiting.settled).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(waiting.settled).toBe('rejected');
    expect(waiting.error).toBeInstanceOf(IamError);
    expect((waiting.error as IamError).code).toBe('IAM_ERR_UNAVAILABLE');
    expect((waiting.error as Error).message).toContain('position 9');
    const reads = s.reads;
    await jest.advanceTimersByTimeAsync(500);
    expect(s.reads).toBe(reads);
  });

  it('takes the last checkpoint seen, not the highest: after a rebuild lowers it, waiters wait for the replay', async () => {
    const s = source();
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 60_000 });
    watermark.observe(10);
    watermark.observe(0); // Projector.rebuild emptied the read models
    expect(watermark.observed).toBe(0);
    const waiting = track(watermark.waitFor(10));
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting.settled).toBe('pending');
    watermark.observe(10);
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting.settled).toBe('resolved');
  });

  it('refresh reads the checkpoint now, wakes waiters with it, and lets a failure through', async () => {
    const s = source(4);
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 60_000 });
    const waiting = track(watermark.waitFor(4));
    await expect(watermark.refresh()).resolves.toBe(4);
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting.settled).toBe('resolved');
    s.failing = true;
    await expect(watermark.refresh()).rejects.toThrow('unreachable');
    expect(watermark.observed).toBe(4);
  });

  it('close rejects pending waiters and later calls with IAM_ERR_UNAVAILABLE, and polls no more', async () => {
    const s = source(0);
    const watermark = new CheckpointWatermark({ readCheckpoint: s.read, pollIntervalMs: 50 });
    const first = track(watermark.waitFor(5));
    const second = track(watermark.waitFor(6));
    await jest.advanceTimersByTimeAsync(100);
    watermark.close();
    await jest.advanceTimersByTimeAsync(0);
    for (const w of [first, second]) {
      expect(w.settled).toBe('rejected');
      expect((w.error as IamError).code).toBe('IAM_ERR_UNAVAILABLE');
    }
    const reads = s.reads;
    await jest.advanceTimersByTimeAsync(500);
    expect(s.reads).toBe(reads);
    await expect(watermark.waitFor(0)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
    watermark.close(); // twice is harmless
    expect(jest.getTimerCount()).toBe(0);
  });
});
