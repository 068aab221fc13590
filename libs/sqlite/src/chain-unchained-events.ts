import { chainHash, CHAIN_GENESIS } from '@arbor/application';
import { asStoredEvent, EVENT_COLUMNS, type EventRow } from './event-rows';
import type { SqliteDatabase } from './open-sqlite-database';

const BATCH = 1_000;

/**
 * Chains the events written before the hash chain existed (event-store migration 3 added the columns empty),
 * in position order, onto the last chained event before them (or the genesis). One `BEGIN IMMEDIATE`
 * transaction for the whole log, so no writer can append onto a half-chained log, and a crash leaves it
 * unchained, to be chained at the next open. Returns how many events it chained (0 on every later open: one
 * seek of the first event: events are chained in position order from the first, all at once, and a writer
 * refuses to append onto an unchained event, so an unchained log has an unchained first event).
 */
export function chainUnchainedEvents(db: SqliteDatabase): number {
  const firstUnchained = db
    .prepare<[], number>(
      'SELECT position FROM (SELECT position, hash FROM events ORDER BY position LIMIT 1) WHERE hash IS NULL',
    )
    .pluck();
  if (firstUnchained.get() === undefined) return 0;
  const unchained = db.prepare<[number, number], EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.position > ? ORDER BY e.position LIMIT ?`,
  );
  const update = db.prepare<[Buffer, Buffer, number]>('UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?');
  db.exec('BEGIN IMMEDIATE');
  try {
    const start = firstUnchained.get();
    let count = 0;
    if (start !== undefined) {
      let prev: Buffer = CHAIN_GENESIS;
      for (let after = start - 1; ;) {
        const rows = unchained.all(after, BATCH);
        for (const row of rows) {
          const hash = chainHash(prev, asStoredEvent(row));
          update.run(prev, hash, row.position);
          prev = hash;
          count++;
        }
        if (rows.length < BATCH) break;
        after = rows[rows.length - 1].position;
      }
    }
    db.exec('COMMIT');
    return count;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
