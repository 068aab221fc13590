import type { ProjectableEvent, ReadModels } from '@arbor/application';
import { Pool, type PoolClient } from 'pg';
import { GracefulPool } from './graceful-pool';
import { PostgresAccessSearchQueries } from './postgres-access-search-queries';
import { PostgresClientQueries } from './postgres-client-queries';
import { PostgresMembershipQueries } from './postgres-membership-queries';
import { PostgresOrgQueries } from './postgres-org-queries';
import { PostgresHistoryQueries } from './postgres-history-queries';
import { PostgresRoleQueries } from './postgres-role-queries';
import { PostgresUserQueries } from './postgres-user-queries';
import { PostgresWebhookQueries } from './postgres-webhook-subscriptions';
import { ReadModelProjection } from './read-model-projection';
import {
  CHECKPOINT_NAME,
  createReadModelsSchema,
  projectionChannel,
  READ_MODEL_TABLES,
  ReadModelSql,
  type Queryable,
} from './read-models-schema';

export interface PostgresReadModelsOptions {
  /** The PostgreSQL schema holding the read models, created if absent. Default `arbor`. */
  schema?: string;
  /** A pool to share; it stays open when the read models close. By default they open (and end) their own. */
  pool?: Pool;
  /** Connections of the pool the read models open themselves. Default 10. */
  poolSize?: number;
}

/**
 * The read side in PostgreSQL, a port of the SQLite adapter (same tables, orderings, cursors and projection).
 *
 * `apply` runs one transaction per batch that starts by locking the projector's checkpoint row
 * (`SELECT ... FOR UPDATE`): projector processes applying concurrently take turns, each one skips what the
 * previous one committed, and no event is ever applied twice. After COMMIT it announces the new checkpoint on
 * `arbor_projection_<schema>` (see `PostgresProjectionWatermark`). Queries run on the pool, outside any
 * transaction: each sees the last committed batch, never half of one. Connection errors propagate.
 */
export class PostgresReadModels implements ReadModels {
  readonly orgs: PostgresOrgQueries;
  readonly users: PostgresUserQueries;
  readonly memberships: PostgresMembershipQueries;
  readonly search: PostgresAccessSearchQueries;
  readonly roles: PostgresRoleQueries;
  readonly history: PostgresHistoryQueries;
  readonly clients: PostgresClientQueries;
  readonly webhooks: PostgresWebhookQueries;
  /** The NOTIFY channel of this schema's checkpoint. */
  readonly channel: string;
  private readonly sql: ReadModelSql;
  private readonly projection: ReadModelProjection;
  private readonly getCheckpoint: string;
  private readonly lockCheckpointRow: string;
  private readonly insertCheckpointRow: string;
  private readonly setCheckpoint: string;
  private readonly wipe: string[];
  private closed = false;

  constructor(
    private readonly pool: Pool,
    readonly schema = 'arbor',
    private readonly ownsPool = false,
  ) {
    this.sql = new ReadModelSql(schema);
    this.channel = projectionChannel(schema);
    this.orgs = new PostgresOrgQueries(pool, this.sql);
    this.users = new PostgresUserQueries(pool, this.sql);
    this.memberships = new PostgresMembershipQueries(pool, this.sql);
    this.clients = new PostgresClientQueries(pool, this.sql);
    this.search = new PostgresAccessSearchQueries(pool, this.sql);
    this.roles = new PostgresRoleQueries(pool, this.sql);
    this.history = new PostgresHistoryQueries(pool, this.sql);
    this.webhooks = new PostgresWebhookQueries(pool, this.sql);
    this.projection = new ReadModelProjection(this.sql);
    const checkpoint = this.sql.table('checkpoint');
    this.getCheckpoint = `SELECT position FROM ${checkpoint} WHERE name = $1`;
    this.lockCheckpointRow = `SELECT position FROM ${checkpoint} WHERE name = $1 FOR UPDATE`;
    this.insertCheckpointRow = `INSERT INTO ${checkpoint} (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`;
    this.setCheckpoint = `UPDATE ${checkpoint} SET position = $2 WHERE name = $1`;
    this.wipe = READ_MODEL_TABLES.map((table) => `DELETE FROM ${this.sql.table(table)}`);
  }

  async checkpoint(): Promise<number> {
    this.assertOpen();
    return this.readCheckpoint(this.pool, this.getCheckpoint);
  }

  /**
   * Events are expected in position order; an event at or below the checkpoint (including one repeated
   * within the batch, or one another projector committed meanwhile) has been applied already and is skipped.
   */
  async apply(events: ProjectableEvent[]): Promise<number> {
    this.assertOpen();
    let start = 0;
    let checkpoint = 0;
    const client = await this.transaction(async (tx) => {
      start = await this.lockCheckpoint(tx);
      checkpoint = start;
      for (const event of events) {
        if (event.position <= checkpoint) continue;
        await this.projection.apply(tx, event);
        checkpoint = event.position;
      }
      if (checkpoint !== start) await this.sql.run(tx, this.setCheckpoint, [CHECKPOINT_NAME, checkpoint]);
    });
    await this.announce(client, checkpoint !== start ? checkpoint : undefined);
    return checkpoint;
  }

  /** Empties every read model and the checkpoint, ready for a rebuild from position 0 (announced as 0). */
  async reset(): Promise<void> {
    this.assertOpen();
    const client = await this.transaction(async (tx) => {
      await this.lockCheckpoint(tx);
      for (const statement of this.wipe) await this.sql.run(tx, statement, []);
    });
    await this.announce(client, 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  /**
   * Runs `work` in a READ COMMITTED transaction (each statement sees what was committed before it, in
   * particular what a projector that held the checkpoint lock before us wrote) and returns the client,
   * still checked out, for the announcement that follows COMMIT.
   */
  private async transaction(work: (tx: PoolClient) => Promise<void>): Promise<PoolClient> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await work(client);
      await client.query('COMMIT');
      return client;
    } catch (e) {
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      // A client whose connection broke is discarded rather than handed to the next caller.
      client.release(rolledBack ? undefined : true);
      throw e;
    }
  }

  /**
   * NOTIFY after COMMIT, then releases the client. The batch is committed whatever happens here, so a
   * failed NOTIFY does not fail `apply`: watermarks also poll, and the next `apply` reports a lost connection.
   */
  private async announce(client: PoolClient, position: number | undefined): Promise<void> {
    if (position === undefined) {
      client.release();
      return;
    }
    try {
      await client.query('SELECT pg_notify($1, $2)', [this.channel, String(position)]);
      client.release();
    } catch {
      client.release(true);
    }
  }

  /** Locks the checkpoint row (creating it at 0 first if absent) and returns its position. */
  private async lockCheckpoint(tx: PoolClient): Promise<number> {
    const rows = await this.sql.rows<{ position: string }>(tx, this.lockCheckpointRow, [CHECKPOINT_NAME]);
    if (rows.length > 0) return Number(rows[0].position);
    // A concurrent first insert makes this one wait for its commit and do nothing; the lock below then
    // reads the committed row.
    await this.sql.run(tx, this.insertCheckpointRow, [CHECKPOINT_NAME]);
    return this.readCheckpoint(tx, this.lockCheckpointRow);
  }

  private async readCheckpoint(db: Queryable, statement: string): Promise<number> {
    const [row] = await this.sql.rows<{ position: string }>(db, statement, [CHECKPOINT_NAME]);
    return row === undefined ? 0 : Number(row.position);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The read models are closed.');
  }
}

/**
 * Opens the read models in `options.schema` (default `arbor`), creating the schema and its tables if absent.
 * With `options.pool` the connection string is not used and the pool is shared.
 */
export async function openPostgresReadModels(
  connectionString: string,
  options: PostgresReadModelsOptions = {},
): Promise<PostgresReadModels> {
  const schema = options.schema ?? 'arbor';
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new GracefulPool({ connectionString, max: options.poolSize ?? 10 });
  // An idle client losing its connection must not crash the process: the next query reports the error.
  if (ownsPool) pool.on('error', () => undefined);
  try {
    await createReadModelsSchema(pool, schema);
    return new PostgresReadModels(pool, schema, ownsPool);
  } catch (e) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw e;
  }
}
