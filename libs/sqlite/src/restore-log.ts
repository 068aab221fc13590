import type { ChainLink, StoredCheckpoint } from '@arbor/application';
import { existsSync, rmSync } from 'node:fs';
import { applyMigrations } from './apply-migrations';
import { EVENT_STORE_MIGRATIONS } from './event-store-schema';
import { openSqliteDatabase } from './open-sqlite-database';

/**
 * Writes a verified log (the links of `arbor events export --chain`, in position order, and its checkpoints) into a
 * new event log at `file`, exactly as exported: positions, ids, times, data as stored, request metadata and its digest, and both hashes, so the
 * restored log verifies to the same head. Refuses a file that exists (an event log is never merged into). One
 * transaction: a crash leaves no half-restored log (the file is removed again on failure). Returns the events written.
 */
export async function restoreSqliteEventLog(
  file: string,
  links: AsyncIterable<ChainLink>,
  checkpoints: readonly StoredCheckpoint[],
): Promise<number> {
  if (existsSync(file)) throw new Error(`${file} exists: a log is restored into an empty data directory only.`);
  const db = openSqliteDatabase(file, { synchronous: 'FULL' });
  try {
    db.pragma('secure_delete = ON');
    applyMigrations(db, EVENT_STORE_MIGRATIONS);
    const insertEvent = db.prepare(
      `INSERT INTO events (position, id, stream_id, stream_version, type, occurred_at, actor_type, actor_id, data,
         org_path, prev_hash, hash, request_metadata, metadata_digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertOrg = db.prepare('INSERT OR IGNORE INTO event_orgs (org_id, position) VALUES (?, ?)');
    const insertCheckpoint = db.prepare('INSERT INTO chain_checkpoints (position, jws) VALUES (?, ?)');
    let count = 0;
    db.exec('BEGIN IMMEDIATE');
    for await (const { event, prevHash, hash } of links) {
      insertEvent.run(
        event.position,
        event.id,
        event.streamId,
        event.streamVersion,
        event.type,
        event.occurredAt,
        event.actor.type,
        event.actor.id,
        JSON.stringify(event.data ?? null),
        JSON.stringify(event.orgPath),
        prevHash === null ? null : Buffer.from(prevHash),
        hash === null ? null : Buffer.from(hash),
        // Request metadata as exported: dropped (null) stays dropped, its digest stays with the link.
        event.requestMetadata === undefined || event.requestMetadata === null
          ? null
          : JSON.stringify(event.requestMetadata),
        event.metadataDigest ?? null,
      );
      for (const orgId of event.orgPath) insertOrg.run(orgId, event.position);
      count++;
    }
    for (const c of checkpoints) insertCheckpoint.run(c.position, c.jws);
    db.exec('COMMIT');
    db.close();
    return count;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    throw e;
  }
}
