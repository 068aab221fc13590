import { chainHash, CHAIN_GENESIS } from '@arbor/application';
import type { PoolClient } from 'pg';
import { asStoredEvent, EVENT_COLUMNS, type EventRow } from './event-rows';

const BATCH = 1_000;

/**
 * Chains the events written before the hash chain existed (event-store migration 2 added the columns empty),
 * in position order from the first, onto the genesis. Runs inside the migrations' transaction, under the
 * writers' advisory lock, so no writer appends onto a half-chained log, and a crash leaves the log unchained, to
 * be chained at the next start. Returns how many events it chained (on every later start: one seek of the first
 * event, which is chained; events are chained from the first, all at once, and a writer refuses to append onto
 * an unchained event).
 */
export async function chainUnchainedEvents(client: PoolClient, s: string): Promise<number> {
  const first = await client.query<{ chained: boolean }>(
    `SELECT hash IS NOT NULL AS chained FROM ${s}.events ORDER BY position LIMIT 1`,
  );
  if (first.rows.length === 0 || first.rows[0].chained) return 0;
  let prev: Buffer = CHAIN_GENESIS;
  let count = 0;
  for (let after = '0'; ;) {
    const { rows } = await client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${s}.events e WHERE e.position > $1 ORDER BY e.position LIMIT ${BATCH}`,
      [after],
    );
    const prevs: Buffer[] = [];
    const hashes: Buffer[] = [];
    for (const row of rows) {
      const hash = chainHash(prev, asStoredEvent(row));
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }
    if (rows.length > 0)
      await client.query(
        `UPDATE ${s}.events e SET prev_hash = u.prev_hash, hash = u.hash
         FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (position, prev_hash, hash)
         WHERE e.position = u.position`,
        [rows.map((r) => r.position), prevs, hashes],
      );
    count += rows.length;
    if (rows.length < BATCH) return count;
    after = rows[rows.length - 1].position;
  }
}
