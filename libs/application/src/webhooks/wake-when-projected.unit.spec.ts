import { wakeWhenProjected } from './wake-when-projected';

describe('wakeWhenProjected', () => {
  /** A watermark the test moves: `waitFor` resolves once `reach` passes the position, or rejects on `fail`. */
  function watermark() {
    const waits: Array<{ position: number; resolve: () => void; reject: (e: Error) => void }> = [];
    let checkpoint = 0;
    return {
      waits,
      waitFor: (position: number) =>
        position <= checkpoint
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => waits.push({ position, resolve, reject })),
      reach(position: number) {
        checkpoint = position;
        for (const w of waits.splice(0)) if (w.position <= position) w.resolve();
      },
      fail() {
        for (const w of waits.splice(0)) w.reject(new Error('timeout'));
      },
    };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('waits once at a time, for the latest position, and wakes after each wait', async () => {
    const m = watermark();
    const wake = jest.fn();
    const ask = wakeWhenProjected(m.waitFor, wake);
    ask(1);
    ask(2);
    ask(3);
    await settle();
    expect(m.waits.map((w) => w.position)).toEqual([1]);
    m.reach(1);
    await settle();
    expect(wake).toHaveBeenCalledTimes(1);
    // Then one wait for the latest asked meanwhile.
    expect(m.waits.map((w) => w.position)).toEqual([3]);
    m.reach(3);
    await settle();
    expect(wake).toHaveBeenCalledTimes(2);
    expect(m.waits).toEqual([]);
  });

  it('wakes nothing on a failed wait, and waits again for a later commit', async () => {
    const m = watermark();
    const wake = jest.fn();
    const ask = wakeWhenProjected(m.waitFor, wake);
    ask(5);
    await settle();
    m.fail();
    await settle();
    expect(wake).not.toHaveBeenCalled();
    ask(6);
    await settle();
    expect(m.waits.map((w) => w.position)).toEqual([6]);
    m.reach(6);
    await settle();
    expect(wake).toHaveBeenCalledTimes(1);
  });

  it('survives a waitFor that throws at once and a wake that throws: nothing unhandled, the next commit waits', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      let calls = 0;
      const waitFor = (position: number) => {
        calls++;
        if (position === 1) throw new Error('closed');
        return Promise.resolve();
      };
      const wake = jest.fn(() => {
        throw new Error('dispatcher gone');
      });
      const ask = wakeWhenProjected(waitFor, wake);
      ask(1);
      await settle();
      ask(2);
      await settle();
      expect(calls).toBe(2);
      expect(wake).toHaveBeenCalledTimes(1);
      await settle();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
