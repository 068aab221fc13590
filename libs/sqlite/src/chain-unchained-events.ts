import { chainHash, CHAIN_GENESIS } from '@arbor/application';
import { asStoredEvent, BASE_EVENT_COLUMNS, type EventRow } from './event-rows';
import type { SqliteDatabase } from './open-sqlite-database';

const BATCH = 1_000;

/**
 * Chains the events written before the hash chain existed, in position order from the first, onto the genesis.
 * Runs once, inside event-store migration 3's transaction (which holds SQLite's write lock): a crash leaves the
 * schema unmigrated and the log unchained, to be migrated again at the next open. Returns how many it chained.
 */
export function chainUnchainedEvents(db: SqliteDatabase): number {
  const rowsAfter = db.prepare<[number, number], EventRow>(
    `SELECT ${BASE_EVENT_COLUMNS} FROM events e WHERE e.position > ? ORDER BY e.position LIMIT ?`,
  );
  const update = db.prepare<[Buffer, Buffer, number]>('UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?');
  let prev: Buffer = CHAIN_GENESIS;
  let count = 0;
  for (let after = 0; ;) {
    const rows = rowsAfter.all(after, BATCH);
    for (const row of rows) {
      const hash = chainHash(prev, asStoredEvent(row));
      update.run(prev, hash, row.position);
      prev = hash;
      count++;
    }
    if (rows.length < BATCH) return count;
    after = rows[rows.length - 1].position;
  }
}
