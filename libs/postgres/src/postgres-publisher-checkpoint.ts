import { Pool } from 'pg';
import { GracefulPool } from './graceful-pool';
import { migrateSchema, qualified, type MigrationPlan } from './schema-migrations';

/** Migration 1 is the table from before versioned migrations (see `MigrationPlan`). */
const checkpointMigrations: MigrationPlan = {
  history: 'publisher_checkpoint_migrations',
  migrations: [
    (s) => `CREATE TABLE IF NOT EXISTS ${s}.publisher_checkpoint (name text PRIMARY KEY, position bigint NOT NULL)`,
    // 1 -> 2: the relay's lease (claim, release): who publishes, until when (the database's clock).
    (s) => `ALTER TABLE ${s}.publisher_checkpoint ADD COLUMN lease_owner text, ADD COLUMN lease_expires timestamptz`,
  ],
};

/**
 * Where the event publisher keeps the position of the last event Kafka acknowledged, and the lease that lets one
 * publisher of several relay at a time: one row next to the log it tails. Structurally a `PublisherCheckpoint` of
 * @arbor/kafka (this lib does not import that one).
 */
export class PostgresPublisherCheckpoint {
  private readonly table: string;

  private constructor(
    private readonly pool: Pool,
    schema: string,
    private readonly name: string,
  ) {
    this.table = qualified(schema, 'publisher_checkpoint');
  }

  static async open(
    connectionString: string,
    options: { schema?: string; name?: string } = {},
  ): Promise<PostgresPublisherCheckpoint> {
    const schema = options.schema ?? 'arbor';
    const pool = new GracefulPool({ connectionString, max: 2 });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const checkpoint = new PostgresPublisherCheckpoint(pool, schema, options.name ?? 'kafka');
    try {
      await migrateSchema(pool, schema, checkpointMigrations);
    } catch (e) {
      await pool.end().catch(() => undefined); // nobody else holds the pool to end it
      throw e;
    }
    return checkpoint;
  }

  async load(): Promise<number> {
    const { rows } = await this.pool.query(`SELECT position FROM ${this.table} WHERE name = $1`, [this.name]);
    return rows.length === 0 ? 0 : Number(rows[0].position);
  }

  /** Never moves backwards, so a slow, older save cannot undo a newer one. */
  async save(position: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = GREATEST(${this.table}.position, EXCLUDED.position)`,
      [this.name, position],
    );
  }

  /**
   * Takes or renews the relay's lease for `owner` for `ttlMs` when it is free, expired or `owner`'s own, in one
   * conditional upsert; resolves whether `owner` holds it. Expiry is the database's clock, so the command services'
   * clocks do not matter.
   */
  async claim(owner: string, ttlMs: number): Promise<boolean> {
    const { rows } = await this.pool.query(
      `INSERT INTO ${this.table} AS c (name, position, lease_owner, lease_expires)
       VALUES ($1, 0, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_expires = EXCLUDED.lease_expires
       WHERE c.lease_owner IS NULL OR c.lease_owner = EXCLUDED.lease_owner OR c.lease_expires < now()
       RETURNING c.lease_owner`,
      [this.name, owner, ttlMs],
    );
    return rows.length === 1;
  }

  /** Gives the lease up if `owner` holds it. */
  async release(owner: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET lease_owner = NULL WHERE name = $1 AND lease_owner = $2`, [
      this.name,
      owner,
    ]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
