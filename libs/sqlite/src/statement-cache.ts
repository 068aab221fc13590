import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';

/**
 * Prepared statements keyed by their SQL text, for queries whose WHERE clause depends on which filters are
 * present: each combination is prepared once, on first use, and there are few combinations.
 */
export class StatementCache {
  private readonly statements = new Map<string, Statement<unknown[], unknown>>();

  constructor(private readonly db: SqliteDatabase) {}

  /** `raw`: rows as arrays (see `ORG_COLUMNS`); fixed per SQL text, on first use. */
  get<R>(sql: string, raw = false): Statement<unknown[], R> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare<unknown[], unknown>(sql);
      if (raw) statement.raw(true);
      this.statements.set(sql, statement);
    }
    return statement as Statement<unknown[], R>;
  }
}
