import { GroupCommitQueue, type CommitDelay, type QueuedTransaction } from './group-commit-queue';

/** A queue whose drain records the groups it takes (by the labels their work returns) and settles each item. */
function recordingQueue(delay?: CommitDelay) {
  const groups: string[][] = [];
  const queue = new GroupCommitQueue<void>(async (next: (max: number) => Array<QueuedTransaction<void>>) => {
    for (let group = next(64); group.length > 0; group = next(64)) {
      const labels = await Promise.all(group.map((item) => item.work()));
      groups.push(labels as string[]);
      group.forEach((item, i) => item.resolve(labels[i]));
    }
  }, delay);
  const add = (label: string) => queue.enqueue(async () => label);
  return { groups, add, queue };
}

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GroupCommitQueue', () => {
  it('groups the transactions queued in one turn of the event loop', async () => {
    const { groups, add } = recordingQueue();
    await Promise.all(['a', 'b', 'c'].map(add));
    await add('d');
    expect(groups).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('without a commit delay, a transaction queued a little later has a group of its own', async () => {
    const { groups, add } = recordingQueue();
    await Promise.all(['a', 'b', 'c', 'd'].map(add));
    const e = add('e');
    await later(20);
    await Promise.all([e, add('f')]);
    expect(groups).toEqual([['a', 'b', 'c', 'd'], ['e'], ['f']]);
  });

  it('under load (the last group held `siblings`), waits up to `delayMs` for more to share the group', async () => {
    const { groups, add } = recordingQueue({ delayMs: 200, siblings: 4, full: 64 });
    await Promise.all(['a', 'b', 'c', 'd'].map(add));
    const e = add('e');
    await later(20);
    await Promise.all([e, add('f')]);
    expect(groups).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f'],
    ]);
  });

  it('ends the wait as soon as a full group is queued', async () => {
    const { groups, add } = recordingQueue({ delayMs: 60_000, siblings: 2, full: 3 });
    await Promise.all(['a', 'b'].map(add));
    const e = add('e');
    await later(20);
    // Had the queue waited out its 60 s, Jest's 5 s timeout would fail this test.
    await Promise.all([e, add('f'), add('g')]);
    expect(groups).toEqual([
      ['a', 'b'],
      ['e', 'f', 'g'],
    ]);
  });

  it('never delays a lone writer: groups of one stay below `siblings`', async () => {
    const { groups, add } = recordingQueue({ delayMs: 60_000, siblings: 2, full: 64 });
    await add('a');
    await add('b');
    const c = add('c');
    await later(20);
    await Promise.all([c, add('d')]);
    expect(groups).toEqual([['a'], ['b'], ['c'], ['d']]);
  });
});
