import { chainHash, CHAIN_GENESIS } from '@arbor/application';
import type { PoolClient } from 'pg';
import { asStoredEvent, BASE_EVENT_COLUMNS, type EventRow } from './event-rows';

const BATCH = 1_000;

/**
 * Chains the events written before the hash chain existed, in position order from the first, onto the genesis.
 * Runs once, as event-store migration 2, inside the migrations' transaction and under the writers' advisory lock: a
 * crash leaves the schema unmigrated and the log unchained. Returns how many events it chained.
 */
export async function chainUnchainedEvents(client: PoolClient, s: string): Promise<number> {
  let prev: Buffer = CHAIN_GENESIS;
  let count = 0;
  for (let after = '0'; ;) {
    const { rows } = await client.query<EventRow>(
      `SELECT ${BASE_EVENT_COLUMNS} FROM ${s}.events e WHERE e.position > $1 ORDER BY e.position LIMIT ${BATCH}`,
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
