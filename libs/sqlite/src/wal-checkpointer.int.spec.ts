import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from './sqlite-event-store';
import { startWalCheckpointer } from './wal-checkpointer';

/** The main file only grows when a checkpoint copies WAL frames into it: that is what these tests watch. */
describe('startWalCheckpointer', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function writeEvents(file: string, count: number, withCheckpointer = false) {
    const store = openSqliteEventStore(file, { backgroundCheckpoints: true });
    const errors: string[] = [];
    // Started once the file exists (as the composition roots do), on the same file.
    const checkpointer = withCheckpointer
      ? startWalCheckpointer([file], { intervalMs: 50, onError: (_f, e) => errors.push(e) })
      : undefined;
    const initialSize = statSync(file).size;
    const actor = { type: 'system' as const, id: 't' };
    for (let i = 0; i < count; i++)
      await store.transaction((tx) =>
        tx.append(`s-${i}`, [{ type: 'Thing', data: { pad: 'x'.repeat(500) }, actor, orgPath: [] }], 'no_stream'),
      );
    return { store, checkpointer, errors, initialSize };
  }

  it('copies committed frames into the database file from its worker', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'arbor-wal-')), 'events.sqlite');
    const { store, checkpointer, errors, initialSize } = await writeEvents(file, 300, true);
    await sleep(400);
    try {
      expect(errors).toEqual([]);
      expect(statSync(file).size).toBeGreaterThan(initialSize + 100_000);
    } finally {
      await checkpointer?.stop();
      await store.close();
    }
  });

  it('leaves the frames in the WAL without it (the connection itself waits for 50,000 pages)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'arbor-wal-')), 'events.sqlite');
    const { store, initialSize } = await writeEvents(file, 300);
    await sleep(400);
    try {
      expect(statSync(file).size).toBe(initialSize);
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(100_000);
    } finally {
      await store.close();
    }
  });
});
