import { newEvent as ev } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteEventStore, openSqliteEventStoreReadOnly, type SqliteEventStore } from './sqlite-event-store';

/**
 * The embedded HTTP workers read the event log through read-only connections of their own: SQLite shows them a
 * commit as soon as it is made, before the writer's fdatasync. They must return it only once the writer says it is
 * durable (`onDurable` -> `awaitDurable`), as the writer's own reads do (`WalSync.settled`).
 */
describe('reads of the log in another process wait for the writer to say what is durable', () => {
  let dir: string;
  let writer: SqliteEventStore;
  let reader: SqliteEventStore;
  /** The writer's word as the reader has heard it, and the reads waiting for more. */
  let heard: number;
  let waiting: Array<{ position: number; resolve: () => void }>;
  const hear = (position: number) => {
    heard = position;
    for (const w of waiting.filter((w) => w.position <= position)) w.resolve();
    waiting = waiting.filter((w) => w.position > position);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-durable-reads-'));
    writer = openSqliteEventStore(path.join(dir, 'events.sqlite'));
    heard = writer.durablePosition;
    waiting = [];
    reader = openSqliteEventStoreReadOnly(path.join(dir, 'events.sqlite'), {
      awaitDurable: (position) =>
        position <= heard ? Promise.resolve() : new Promise((resolve) => waiting.push({ position, resolve })),
    });
  });
  afterEach(async () => {
    await reader.close();
    await writer.close();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('announces each group after its fdatasync, and the durable position follows', async () => {
    const announced: number[] = [];
    writer.onDurable((p) => announced.push(p));
    expect(writer.durablePosition).toBe(0);
    await writer.transaction((tx) => tx.append('s', [ev('A'), ev('B')], 'no_stream'));
    expect(writer.durablePosition).toBe(2);
    await writer.transaction((tx) => tx.append('s', [ev('C')], 2));
    expect(announced).toEqual([2, 3]);
  });

  it('holds a read that saw a commit the writer has not called durable, and returns it once it has', async () => {
    await writer.transaction((tx) => tx.append('s', [ev('A')], 'no_stream'));
    hear(writer.durablePosition);
    expect((await reader.readAll({ after: 0, limit: 10 })).map((e) => e.position)).toEqual([1]);

    // A commit the reader can see but has not heard of (the writer's announcement is still on its way).
    const unsubscribe = writer.onDurable(() => undefined);
    await writer.transaction((tx) => tx.append('s', [ev('B')], 1));
    unsubscribe();
    let read: number[] | undefined;
    const reading = reader.readAll({ after: 0, limit: 10 }).then((events) => (read = events.map((e) => e.position)));
    const head = reader.headPosition();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(read).toBeUndefined();

    hear(writer.durablePosition);
    await reading;
    expect(read).toEqual([1, 2]);
    expect(await head).toBe(2);
  });
});
