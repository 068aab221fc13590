import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';

/** The last event of the log: its position, its time (ISO 8601) and its chain hash (null if never chained). */
export interface TailEvent {
  position: number;
  occurredAt: string;
  hash: Buffer | null;
}

/**
 * What the event log's writer connection knows of the log's end without reading it again. Every append needs the
 * last event (its position comes next, its time is never before, its hash is what the new event chains onto), and
 * the command model's catch-up, once per command, asks whether anything lies past its position: under load at 100k
 * organizations that empty range read cost ~14 µs, and the last event's seek a few more, per command.
 *
 * Invariant: a known tail is the log's end as the writer connection sees it. It is set by the connection's own
 * appends; forgotten when a savepoint or the transaction rolls back (the rows go back, and AUTOINCREMENT's counter
 * with them); and forgotten at the start of a group when another connection has committed since the last one
 * (`PRAGMA data_version` changes only for other connections' commits: another process appending to the same
 * file). That check, right after `BEGIN IMMEDIATE`, suffices: from then on this connection holds the write lock,
 * and between groups it writes no event (the writes outside groups touch request metadata, idempotency records and
 * checkpoints, never a position, a time or a hash).
 */
export class LogTail {
  /** null: the log is empty; undefined: not known, read it. */
  private known: TailEvent | null | undefined;
  private dataVersion: number | undefined;
  private readonly lastRow: Statement<[], { position: number; occurred_at: string; hash: Buffer | null }>;
  private readonly version: Statement<[], number>;

  constructor(db: SqliteDatabase) {
    // One descending seek of the primary key.
    this.lastRow = db.prepare('SELECT position, occurred_at, hash FROM events ORDER BY position DESC LIMIT 1');
    this.version = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** Call right after the group's `BEGIN IMMEDIATE`: forgets the tail if another connection committed since. */
  begin(): void {
    const version = this.version.get();
    if (version !== this.dataVersion) {
      this.known = undefined;
      this.dataVersion = version;
    }
  }

  /** The last event, read once and then kept (see the class); undefined on an empty log. */
  get(): TailEvent | undefined {
    if (this.known === undefined) {
      const row = this.lastRow.get();
      this.known = row === undefined ? null : { position: row.position, occurredAt: row.occurred_at, hash: row.hash };
    }
    return this.known ?? undefined;
  }

  /** The event this connection has just inserted is the new end. */
  wrote(event: TailEvent): void {
    this.known = event;
  }

  /** After a rollback of any extent: the next `get` reads the end again. */
  forget(): void {
    this.known = undefined;
  }
}
