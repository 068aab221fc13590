import type { NewSignInRecord, SignInAuditStore, SignInQuery, SignInRecord } from '@arbor/application';
import { applyMigrations } from './apply-migrations';
import { BatchedWriter } from './batched-writer';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { WalTruncation, type WalTruncationReporter } from './wal-truncation';

/**
 * Append-only; `sign_in_orgs` indexes each record by every organization it concerns (the `orgId` filter and
 * per-organization retention). The record's other fields are one JSON document: nothing else filters on them.
 */
const SIGN_IN_MIGRATIONS: readonly string[] = [
  `CREATE TABLE sign_ins (
     position INTEGER PRIMARY KEY AUTOINCREMENT,
     occurred_at TEXT NOT NULL,
     user_id TEXT,
     client_id TEXT,
     outcome TEXT NOT NULL,
     username_digest TEXT,
     record TEXT NOT NULL
   );
   CREATE INDEX sign_ins_occurred_at ON sign_ins (occurred_at);
   CREATE INDEX sign_ins_user ON sign_ins (user_id, position) WHERE user_id IS NOT NULL;
   CREATE INDEX sign_ins_client ON sign_ins (client_id, position) WHERE client_id IS NOT NULL;
   CREATE TABLE sign_in_orgs (
     org_id TEXT NOT NULL,
     position INTEGER NOT NULL REFERENCES sign_ins (position) ON DELETE CASCADE,
     PRIMARY KEY (org_id, position)
   ) WITHOUT ROWID;
   CREATE INDEX sign_in_orgs_position ON sign_in_orgs (position);`,
];

type Row = { position: number; record: string };

/** The sign-in audit in its own SQLite file (`sign-ins.sqlite`), mode 0600 as every file of the data directory. */
export class SqliteSignInAuditStore implements SignInAuditStore {
  private closed = false;
  private readonly insert;
  private readonly insertOrg;
  private readonly writes: BatchedWriter<NewSignInRecord>;
  /** Empties the WAL after a purge: it still holds the frames that wrote the purged records (retention at rest). */
  private readonly truncation: WalTruncation;

  constructor(
    private readonly db: SqliteDatabase,
    reportWalTruncation?: WalTruncationReporter,
  ) {
    this.truncation = new WalTruncation(db, undefined, { report: reportWalTruncation });
    this.insert = db.prepare<[string, string | null, string | null, string, string | null, string]>(
      `INSERT INTO sign_ins (occurred_at, user_id, client_id, outcome, username_digest, record)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertOrg = db.prepare<[string, number | bigint]>(
      'INSERT OR IGNORE INTO sign_in_orgs (org_id, position) VALUES (?, ?)',
    );
    this.writes = new BatchedWriter(db, (records: NewSignInRecord[]) => {
      for (const r of records) {
        const { orgIds, ...rest } = r;
        const { lastInsertRowid } = this.insert.run(
          r.occurredAt,
          r.userId ?? null,
          r.clientId ?? null,
          r.outcome,
          r.usernameDigest ?? null,
          JSON.stringify(rest),
        );
        for (const orgId of new Set(orgIds)) this.insertOrg.run(orgId, lastInsertRowid);
      }
    });
  }

  /**
   * Queued and written with the others of the same turn of the event loop (BatchedWriter: one transaction, and no
   * busy-waiting when an HTTP worker of the same data directory holds the write lock); resolves once committed.
   */
  async record(r: NewSignInRecord): Promise<void> {
    this.assertOpen();
    return this.writes.enqueue(r);
  }

  async list(q: SignInQuery): Promise<SignInRecord[]> {
    this.assertOpen();
    const where = ['s.position > ?'];
    const params: unknown[] = [q.after ?? 0];
    const eq = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`s.${column} = ?`);
      params.push(value);
    };
    eq('user_id', q.userId);
    eq('client_id', q.clientId);
    eq('outcome', q.outcome);
    eq('username_digest', q.usernameDigest);
    if (q.since !== undefined) {
      where.push('s.occurred_at >= ?');
      params.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('s.occurred_at <= ?');
      params.push(q.until);
    }
    for (const orgId of [q.orgId, q.withinOrg]) {
      if (orgId === undefined) continue;
      where.push('s.position IN (SELECT o.position FROM sign_in_orgs o WHERE o.org_id = ?)');
      params.push(orgId);
    }
    params.push(q.limit);
    const rows = this.db
      .prepare<unknown[], Row>(
        `SELECT s.position, s.record FROM sign_ins s WHERE ${where.join(' AND ')} ORDER BY s.position LIMIT ?`,
      )
      .all(...params);
    const orgs = this.db
      .prepare<[number], string>('SELECT org_id FROM sign_in_orgs WHERE position = ? ORDER BY org_id')
      .pluck();
    return rows.map((row) => ({
      position: row.position,
      ...(JSON.parse(row.record) as Omit<NewSignInRecord, 'orgIds'>),
      orgIds: orgs.all(row.position),
    }));
  }

  async purge(occurredBefore: string, orgId?: string): Promise<number> {
    this.assertOpen();
    const result =
      orgId === undefined
        ? this.db.prepare('DELETE FROM sign_ins WHERE occurred_at < ?').run(occurredBefore)
        : this.db
            .prepare(
              `DELETE FROM sign_ins WHERE occurred_at < ?
               AND position IN (SELECT o.position FROM sign_in_orgs o WHERE o.org_id = ?)`,
            )
            .run(occurredBefore, orgId);
    // secure_delete zeroes the records in their pages; the WAL's older frames still hold them until emptied.
    if (result.changes > 0) await this.truncation.request();
    return result.changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.settle();
    this.truncation.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The sign-in audit store is closed.');
  }
}

/**
 * Opens (creating and migrating if needed) the sign-in audit in `file`. `secure_delete` (as the event log): purged
 * records are overwritten, not left in free pages. `backgroundCheckpoints`: a WalCheckpointer serves the file (see
 * OpenOptions). Every token grant writes a record here: with SQLite's own checkpoint every 1,000 pages, inside a
 * commit on the event loop and with its fsyncs, the commits took 42% of the event loop's time under client_credentials
 * load (one process, 100k organizations: 3,233 grants/s).
 */
export function openSqliteSignInAuditStore(
  file: string,
  options: {
    backgroundCheckpoints?: boolean;
    /** Told when a deletion's WAL truncation stays refused or fails (see WalTruncationReport); the caller logs it. */
    reportWalTruncation?: WalTruncationReporter;
  } = {},
): SqliteSignInAuditStore {
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL', backgroundCheckpoints: options.backgroundCheckpoints });
  try {
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    applyMigrations(db, SIGN_IN_MIGRATIONS);
    return new SqliteSignInAuditStore(db, options.reportWalTruncation);
  } catch (e) {
    db.close();
    throw e;
  }
}
