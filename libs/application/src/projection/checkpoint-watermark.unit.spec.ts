import { CheckpointWatermark } from './checkpoint-watermark';

describe('CheckpointWatermark', () => {
  it('wakes a waiter on an announced checkpoint, and asks nobody to catch up when that comes quickly', async () => {
    let stored = 3;
    const onBehind = jest.fn();
    const watermark = new CheckpointWatermark({ readCheckpoint: async () => stored, pollIntervalMs: 20, onBehind });
    const waiting = watermark.waitFor(5, 1_000);
    stored = 5;
    watermark.observe(5);
    await waiting;
    expect(onBehind).not.toHaveBeenCalled();
    watermark.close();
  });

  it('asks for a catch-up while a wait lasts longer than a poll, and stops asking once it is over', async () => {
    let stored = 3;
    const onBehind = jest.fn();
    const watermark = new CheckpointWatermark({ readCheckpoint: async () => stored, pollIntervalMs: 10, onBehind });
    const waiting = watermark.waitFor(5, 1_000);
    // Each scheduled read that left the waiter behind asks (the one the wait began with does not).
    while (onBehind.mock.calls.length < 2) await new Promise((done) => setTimeout(done, 5));
    stored = 5;
    await waiting;
    const asked = onBehind.mock.calls.length;
    await new Promise((done) => setTimeout(done, 40));
    expect(onBehind).toHaveBeenCalledTimes(asked);
    watermark.close();
  });

  it('rejects with IAM_ERR_UNAVAILABLE on timeout and at close', async () => {
    const watermark = new CheckpointWatermark({ readCheckpoint: async () => 0, pollIntervalMs: 10 });
    await expect(watermark.waitFor(1, 30)).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
    const pending = watermark.waitFor(1, 1_000);
    watermark.close();
    await expect(pending).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE' });
  });
});
