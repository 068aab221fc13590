import { CheckpointWatermark } from '@arbor/application';
import { Pool, type PoolClient } from 'pg';
import { GracefulPool } from './graceful-pool';
import { CHECKPOINT_NAME, projectionChannel, quoteSchemaName } from './read-models-schema';

export interface PostgresProjectionWatermarkOptions {
  /** How often waiters re-read the checkpoint, in case a notification was missed. Default 250 ms. */
  pollIntervalMs?: number;
}

/**
 * Read-your-writes for gateways: `waitFor(position)` resolves once the read models' checkpoint has reached
 * `position`, without polling in the common case.
 *
 * A dedicated connection LISTENs on `arbor_projection_<schema>`, where `PostgresReadModels.apply` announces
 * every new checkpoint after COMMIT. The checkpoint is read once LISTEN is in place, so a commit is either
 * seen by that read or notified afterwards: no lost wake-up. A waiter is registered before it yields, so a
 * notification processed later still finds it. Should a notification be lost all the same (a projector dying
 * between COMMIT and NOTIFY, or a broken listening connection, which is reopened), waiters also re-read the
 * checkpoint every 250 ms (CheckpointWatermark). Notifications arrive in commit order, so each one is the current
 * checkpoint (a reset announces 0); a read may race with a later notification, so it only ever raises what is
 * known. On timeout `waitFor` rejects with IAM_ERR_UNAVAILABLE.
 *
 * Given a pool, the listening connection is one of its clients, held until `close`; given a connection
 * string, the watermark opens a small pool of its own.
 */
export class PostgresProjectionWatermark {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly channel: string;
  private readonly readCheckpointSql: string;
  private readonly watermark: CheckpointWatermark;
  /** The listening connection, and how to discard it (once). */
  private listener: { client: PoolClient; drop: () => void } | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(
    poolOrConnectionString: Pool | string,
    schema = 'arbor',
    options: PostgresProjectionWatermarkOptions = {},
  ) {
    const s = quoteSchemaName(schema);
    this.channel = projectionChannel(schema);
    this.readCheckpointSql = `SELECT position FROM ${s}.checkpoint WHERE name = '${CHECKPOINT_NAME}'`;
    if (typeof poolOrConnectionString === 'string') {
      this.pool = new GracefulPool({
        connectionString: poolOrConnectionString,
        max: 2,
        connectionTimeoutMillis: 10_000,
      });
      this.pool.on('error', () => undefined);
      this.ownsPool = true;
    } else {
      this.pool = poolOrConnectionString;
      this.ownsPool = false;
    }
    this.watermark = new CheckpointWatermark({
      // Each poll also reopens the listening connection if it was lost.
      readCheckpoint: async () => {
        void this.listen();
        const result = await this.pool.query<{ position: string }>(this.readCheckpointSql);
        return positionOf(result.rows[0]?.position) ?? Math.max(this.watermark.observed, 0);
      },
      pollIntervalMs: options.pollIntervalMs ?? 250,
      readsMayLag: true,
      // NOTIFY wakes waiters: the first re-read waits one interval (a query per write would cost the gateway).
      pollAtOnce: false,
    });
  }

  /** Resolves once the checkpoint is at least `position`; rejects with IAM_ERR_UNAVAILABLE after `timeoutMs`. */
  waitFor(position: number, timeoutMs = 10_000): Promise<void> {
    const waiting = this.watermark.waitFor(position, timeoutMs);
    void this.listen();
    return waiting;
  }

  /** Stops listening; pending waiters are rejected with IAM_ERR_UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watermark.close();
    await this.starting;
    // Discarded, not returned to the pool: no other user inherits the LISTEN or the handlers.
    this.listener?.drop();
    if (this.ownsPool) await this.pool.end();
  }

  /** Opens the listening connection if there is none; failures are left to the poll and the timeout. */
  private listen(): Promise<void> {
    if (this.listener !== undefined || this.closed) return Promise.resolve();
    this.starting ??= this.startListening()
      .catch(() => undefined)
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  private async startListening(): Promise<void> {
    const client = await this.pool.connect();
    let released = false;
    const drop = (): void => {
      if (released) return;
      released = true;
      if (this.listener?.client === client) this.listener = undefined;
      client.release(true);
    };
    client.on('notification', (message) => {
      const position = positionOf(message.payload);
      if (message.channel === this.channel && position !== undefined) this.watermark.observe(position);
    });
    client.on('error', drop);
    client.on('end', drop);
    try {
      await client.query(`LISTEN "${this.channel}"`);
      if (this.closed) throw new Error('closed');
      this.listener = { client, drop };
      // After LISTEN: whatever committed before is read here, whatever commits after is notified.
      const result = await client.query<{ position: string }>(this.readCheckpointSql);
      const read = positionOf(result.rows[0]?.position ?? '0');
      if (read !== undefined && read > this.watermark.observed) this.watermark.observe(read);
    } catch (e) {
      drop();
      throw e;
    }
  }
}

/** A checkpoint as PostgreSQL gives it (bigint as text; no row: 0); undefined when it is not a number. */
function positionOf(payload: string | undefined): number | undefined {
  if (payload === undefined) return 0;
  const position = Number(payload);
  return payload === '' || !Number.isFinite(position) ? undefined : position;
}

/** One-off `PostgresProjectionWatermark.waitFor` on a watermark opened and closed around it. */
export async function waitForCheckpoint(
  poolOrConnectionString: Pool | string,
  schema: string,
  position: number,
  timeoutMs = 10_000,
): Promise<void> {
  const watermark = new PostgresProjectionWatermark(poolOrConnectionString, schema);
  try {
    await watermark.waitFor(position, timeoutMs);
  } finally {
    await watermark.close();
  }
}
