import type { ProjectableEvent, ReadModels } from '@arbor/application';
import type { Statement, Transaction } from 'better-sqlite3';
import { applyMigrations } from './apply-migrations';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { isCorruptDatabaseError, setAsideCorruptDatabase } from './set-aside-corrupt';
import { ReadModelProjection } from './read-model-projection';
import { READ_MODELS_MIGRATIONS } from './read-models-schema';
import { SqliteClientQueries } from './sqlite-client-queries';
import { SqliteAccessSearchQueries } from './sqlite-access-search-queries';
import { SqliteMembershipQueries } from './sqlite-membership-queries';
import { SqliteOrgQueries } from './sqlite-org-queries';
import { SqliteRoleQueries } from './sqlite-role-queries';
import { SqliteUserQueries } from './sqlite-user-queries';
import { SqliteHistoryQueries } from './sqlite-history-queries';
import { SqliteWebhookQueries } from './sqlite-webhook-subscriptions';
import { SHORT_TRUNCATION_WAIT_MS, WalTruncation, type WalTruncationReporter } from './wal-truncation';

const CHECKPOINT_NAME = 'read-models';

/** Children pages and parent lists kept in memory (see SqliteOrgQueries): a few MB at most. */
export const DEFAULT_SUBTREE_CACHE_ENTRIES = 256;

/**
 * The read side in one SQLite file, on one connection: every operation is synchronous underneath, so
 * within a process a query never observes half of an `apply`; other processes read through WAL snapshots.
 */
export class SqliteReadModels implements ReadModels {
  readonly orgs: SqliteOrgQueries;
  readonly users: SqliteUserQueries;
  readonly memberships: SqliteMembershipQueries;
  readonly search: SqliteAccessSearchQueries;
  readonly roles: SqliteRoleQueries;
  readonly clients: SqliteClientQueries;
  readonly history: SqliteHistoryQueries;
  readonly webhooks: SqliteWebhookQueries;
  private readonly getCheckpoint: Statement<[string], number>;
  private readonly applyBatch: Transaction<(events: ProjectableEvent[]) => number>;
  private readonly resetAll: Transaction<() => void>;
  private closed = false;
  /** Empties the WAL after an erasure: it would still hold the erased user's rows as they were. */
  private readonly truncation: WalTruncation;

  constructor(
    private readonly db: SqliteDatabase,
    options: { subtreeCacheEntries?: number; reportWalTruncation?: WalTruncationReporter } = {},
  ) {
    this.truncation = new WalTruncation(db, undefined, { report: options.reportWalTruncation });
    const getCheckpoint = db.prepare<[string], number>('SELECT position FROM checkpoint WHERE name = ?').pluck();
    this.getCheckpoint = getCheckpoint;
    this.orgs = new SqliteOrgQueries(db, {
      version: () => getCheckpoint.get(CHECKPOINT_NAME) ?? 0,
      entries: options.subtreeCacheEntries ?? DEFAULT_SUBTREE_CACHE_ENTRIES,
    });
    this.users = new SqliteUserQueries(db);
    this.memberships = new SqliteMembershipQueries(db);
    this.clients = new SqliteClientQueries(db);
    this.search = new SqliteAccessSearchQueries(db);
    this.roles = new SqliteRoleQueries(db);
    this.history = new SqliteHistoryQueries(db);
    this.webhooks = new SqliteWebhookQueries(db);
    const setCheckpoint = db.prepare<[string, number]>(
      `INSERT INTO checkpoint (name, position) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
    );
    const projection = new ReadModelProjection(db);

    // One transaction for the batch and its checkpoint. An event at or below the checkpoint (including one
    // repeated within the batch) has been applied already and is skipped, so redelivery changes nothing.
    this.applyBatch = db.transaction((events: ProjectableEvent[]): number => {
      const start = this.getCheckpoint.get(CHECKPOINT_NAME) ?? 0;
      let checkpoint = start;
      for (const event of events) {
        if (event.position <= checkpoint) continue;
        projection.apply(event);
        checkpoint = event.position;
      }
      if (checkpoint !== start) setCheckpoint.run(CHECKPOINT_NAME, checkpoint);
      return checkpoint;
    });

    const tables = [
      'orgs',
      'org_closure',
      'users',
      'memberships',
      'clients',
      'roles',
      'application_permissions',
      'org_versions',
      'user_versions',
      'membership_versions',
      'client_versions',
      'role_versions',
      'application_permission_versions',
      'webhook_subscriptions',
      'checkpoint',
    ];
    const wipe = tables.map((table) => db.prepare(`DELETE FROM ${table}`));
    this.resetAll = db.transaction(() => {
      for (const statement of wipe) statement.run();
    });
  }

  async checkpoint(): Promise<number> {
    this.assertOpen();
    return this.getCheckpoint.get(CHECKPOINT_NAME) ?? 0;
  }

  /** Events are expected in position order; an event below one already applied is skipped. */
  async apply(events: ProjectableEvent[]): Promise<number> {
    this.assertOpen();
    const checkpoint = this.applyBatch.immediate(events);
    // The WAL still holds the pages as they were before an erasure, email and name included: checkpoint them into
    // the file and truncate it (the vault does the same after destroying a key).
    // Briefly: every read-your-writes wait, in this process and the workers, waits for this batch.
    if (events.some((e) => e.type === 'UserErased'))
      await this.truncation.request({ waitMs: SHORT_TRUNCATION_WAIT_MS });
    return checkpoint;
  }

  async reset(): Promise<void> {
    this.assertOpen();
    this.resetAll.immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.truncation.close();
    this.db.close();
  }

  /** Resolves once the WAL no longer holds an erased user's rows (see WalTruncation). */
  walEmptied(): Promise<void> {
    return this.truncation.emptied();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The read models are closed.');
  }
}

/** Options of openSqliteReadModels. */
export interface SqliteReadModelsOptions {
  backgroundCheckpoints?: boolean;
  subtreeCacheEntries?: number;
  /** Told when a corrupt file was set aside (see openSqliteReadModels); the caller logs it. */
  onCorruptSetAside?: (report: { file: string; setAsideAs: string; reason: string }) => void;
  /** Told when a deletion's WAL truncation stays refused or fails (see WalTruncationReport); the caller logs it. */
  reportWalTruncation?: WalTruncationReporter;
}

/**
 * Opens (creating and migrating if needed) the read models in `file`; see OpenOptions for the options.
 * The read models are derived from the log, so a file SQLite finds corrupt (SQLITE_CORRUPT, SQLITE_NOTADB)
 * at open, migration or the first read of the checkpoint does not stop the start: it is renamed aside with
 * its -wal and -shm files (setAsideCorruptDatabase), `onCorruptSetAside` is told why, and an empty file is
 * opened in its place, at checkpoint 0, so the projector replays the whole log into it. Any other error
 * (permissions, a full disk) is thrown.
 */
export function openSqliteReadModels(file: string, options: SqliteReadModelsOptions = {}): SqliteReadModels {
  try {
    return openSound(file, options);
  } catch (e) {
    if (!isCorruptDatabaseError(e)) throw e;
    const setAsideAs = setAsideCorruptDatabase(file);
    options.onCorruptSetAside?.({
      file,
      setAsideAs,
      reason: `${(e as { code: string }).code}: ${(e as Error).message}`,
    });
    return openSound(file, options);
  }
}

function openSound(file: string, options: SqliteReadModelsOptions): SqliteReadModels {
  // NORMAL: a crash may lose the last batches, but the checkpoint is lost with them and they are re-applied.
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL', backgroundCheckpoints: options.backgroundCheckpoints });
  try {
    // Emails and names are here in clear: a row rewritten by an erasure must not leave the old bytes in any page.
    // ON, not FAST: FAST zeroes freed space only within pages written anyway, and leaves a page that leaves the tree
    // (erasures emptying a page of the users table or its email index, a rebuild's deletes) on the freelist as it
    // was, emails and names in it. The WAL is truncated after an erasure.
    db.pragma('secure_delete = ON');
    applyMigrations(db, READ_MODELS_MIGRATIONS);
    // Reads the schema and the checkpoint's pages now, so that damage there shows at open, not mid-start.
    db.prepare('SELECT position FROM checkpoint').all();
    return new SqliteReadModels(db, {
      subtreeCacheEntries: options.subtreeCacheEntries,
      reportWalTruncation: options.reportWalTruncation,
    });
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * A read-only connection to read models that another process (the embedded writer) keeps: no migration, no
 * setting aside of a corrupt file (that is the writer's to do), and `apply`/`reset` fail with SQLITE_READONLY.
 * Reads run on WAL snapshots, so a query sees whole batches only; the subtree cache is keyed by the checkpoint it
 * reads from the file, so another process's commit empties it. The file must exist, migrated (Error otherwise).
 */
export function openSqliteReadModelsReadOnly(
  file: string,
  options: Pick<SqliteReadModelsOptions, 'subtreeCacheEntries'> = {},
): SqliteReadModels {
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL', readonly: true });
  try {
    db.prepare('SELECT position FROM checkpoint').all();
    return new SqliteReadModels(db, { subtreeCacheEntries: options.subtreeCacheEntries });
  } catch (e) {
    db.close();
    throw e;
  }
}
