import { OpenedSoFar, undoOnFailure } from './opened-so-far';

/** A thing that records its closing in `closed`; `fails` makes its close throw (at once, or rejecting). */
const thing = (name: string, closed: string[], fails?: 'throw' | 'reject') => ({
  close: () => {
    closed.push(name);
    if (fails === 'throw') throw new Error(`${name} would not close`);
    return fails === 'reject' ? Promise.reject(new Error(`${name} would not close`)) : Promise.resolve();
  },
});

describe('undoOnFailure', () => {
  it('closes what a failed start had opened, last to first, and rethrows its error', async () => {
    const closed: string[] = [];
    const failure = new Error('the start failed');
    await expect(
      undoOnFailure(async (opened) => {
        opened.add(thing('store', closed));
        opened.onUndo(() => closed.push('timer'));
        opened.add(thing('bus', closed));
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(closed).toEqual(['bus', 'timer', 'store']);
  });

  it('runs every closing even when one throws at once or rejects, and reports the start’s error', async () => {
    const closed: string[] = [];
    await expect(
      undoOnFailure(async (opened) => {
        opened.add(thing('first', closed));
        opened.add(thing('rejects', closed, 'reject'));
        opened.add(thing('throws', closed, 'throw'));
        throw new Error('the start failed');
      }),
    ).rejects.toThrow('the start failed');
    expect(closed).toEqual(['throws', 'rejects', 'first']);
  });

  it('closes nothing a successful start opened: that is its close()’s to do', async () => {
    const closed: string[] = [];
    const started = await undoOnFailure(async (opened) => opened.add(thing('store', closed)));
    expect(closed).toEqual([]);
    await started.close();
    expect(closed).toEqual(['store']);
  });
});

describe('OpenedSoFar.all', () => {
  it('returns what opened side by side, in the order given', async () => {
    const closed: string[] = [];
    const opened = new OpenedSoFar();
    const [a, b] = await opened.all([Promise.resolve(thing('a', closed)), Promise.resolve(thing('b', closed))]);
    await opened.undo();
    expect(closed).toEqual(['b', 'a']);
    expect([typeof a.close, typeof b.close]).toEqual(['function', 'function']);
  });

  it('when one fails, waits for the others still opening and adds them before throwing', async () => {
    const closed: string[] = [];
    const opened = new OpenedSoFar();
    const slow = new Promise<ReturnType<typeof thing>>((resolve) =>
      setTimeout(() => resolve(thing('slow', closed)), 20),
    );
    const failing = opened.all([Promise.reject(new Error('no connection')), slow]);
    await expect(failing).rejects.toThrow('no connection');
    await opened.undo();
    expect(closed).toEqual(['slow']);
  });

  it('undoes each closing once: a second undo closes nothing again', async () => {
    const closed: string[] = [];
    const opened = new OpenedSoFar();
    opened.add(thing('store', closed));
    await opened.undo();
    await opened.undo();
    expect(closed).toEqual(['store']);
  });
});
