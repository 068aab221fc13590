import type { SqliteDatabase } from './open-sqlite-database';

/** A schema step: SQL, or code for what SQL cannot do (it runs in the step's transaction like SQL would). */
export type Migration = string | ((db: SqliteDatabase) => void);

/**
 * Brings a database's schema up to date. `migrations[i]` takes the schema from version i to i + 1, and
 * `PRAGMA user_version` records how many have run. Migrations are append-only: never edit one that has
 * shipped. Each step runs under `BEGIN IMMEDIATE` and re-reads the version, so two processes opening the
 * same file at once cannot both run a step.
 */
export function applyMigrations(db: SqliteDatabase, migrations: readonly Migration[]): void {
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > migrations.length) {
        throw new Error(
          `The database schema (version ${version}) is newer than this code (version ${migrations.length}).`,
        );
      }
      if (version === migrations.length) {
        db.exec('COMMIT');
        return;
      }
      const step = migrations[version];
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
}
