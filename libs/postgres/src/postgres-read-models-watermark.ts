import { IamError } from '@arbor/domain';
import { Pool, type PoolClient } from 'pg';
import { CHECKPOINT_NAME, projectionChannel, quoteSchemaName } from './read-models-schema';

export interface PostgresProjectionWatermarkOptions {
  /** How often waiters re-read the checkpoint, in case a notification was missed. Default 250 ms. */
  pollIntervalMs?: number;
}

interface Waiter {
  position: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
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
 * checkpoint every 250 ms. On timeout `waitFor` rejects with IAM_ERR_UNAVAILABLE.
 *
 * Given a pool, the listening connection is one of its clients, held until `close`; given a connection
 * string, the watermark opens a small pool of its own.
 */
export class PostgresProjectionWatermark {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly channel: string;
  private readonly readCheckpointSql: string;
  private readonly pollIntervalMs: number;
  private readonly waiters = new Set<Waiter>();
  /** The checkpoint as last observed (-1: none yet). */
  private known = -1;
  /** The listening connection, and how to discard it (once). */
  private listener: { client: PoolClient; drop: () => void } | undefined;
  private starting: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  constructor(
    poolOrConnectionString: Pool | string,
    schema = 'arbor',
    options: PostgresProjectionWatermarkOptions = {},
  ) {
    const s = quoteSchemaName(schema);
    this.channel = projectionChannel(schema);
    this.readCheckpointSql = `SELECT position FROM ${s}.checkpoint WHERE name = '${CHECKPOINT_NAME}'`;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    if (typeof poolOrConnectionString === 'string') {
      this.pool = new Pool({ connectionString: poolOrConnectionString, max: 2, connectionTimeoutMillis: 10_000 });
      this.pool.on('error', () => undefined);
      this.ownsPool = true;
    } else {
      this.pool = poolOrConnectionString;
      this.ownsPool = false;
    }
  }

  /** Resolves once the checkpoint is at least `position`; rejects with IAM_ERR_UNAVAILABLE after `timeoutMs`. */
  waitFor(position: number, timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('The projection watermark is closed.'));
    if (this.known >= position) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        position,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter);
          reject(unavailable(`The read models did not reach position ${position} within ${timeoutMs} ms.`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      this.startPolling();
      void this.listen();
    });
  }

  /** Stops listening; pending waiters are rejected with IAM_ERR_UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of [...this.waiters]) {
      this.settle(waiter);
      waiter.reject(unavailable('The projection watermark is closed.'));
    }
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
      if (message.channel === this.channel) this.observe(message.payload, true);
    });
    client.on('error', drop);
    client.on('end', drop);
    try {
      await client.query(`LISTEN "${this.channel}"`);
      if (this.closed) throw new Error('closed');
      this.listener = { client, drop };
      // After LISTEN: whatever committed before is read here, whatever commits after is notified.
      const result = await client.query<{ position: string }>(this.readCheckpointSql);
      this.observe(result.rows[0]?.position ?? '0', false);
    } catch (e) {
      drop();
      throw e;
    }
  }

  /** While anyone waits: re-read the checkpoint, and reopen the listening connection if it was lost. */
  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      void this.listen();
      const result = await this.pool.query<{ position: string }>(this.readCheckpointSql);
      this.observe(result.rows[0]?.position ?? '0', false);
    } catch {
      // Unreachable for now: the next tick retries, the waiter's timeout reports.
    } finally {
      this.polling = false;
    }
  }

  /**
   * Notifications arrive in commit order, so each one is the current checkpoint (a reset announces 0). A read
   * may race with a later notification, so it only ever raises what is known.
   */
  private observe(payload: string | undefined, notified: boolean): void {
    const position = Number(payload);
    if (payload === undefined || payload === '' || !Number.isFinite(position)) return;
    if (notified || position > this.known) this.known = position;
    for (const waiter of [...this.waiters]) {
      if (waiter.position <= this.known) {
        this.settle(waiter);
        waiter.resolve();
      }
    }
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    if (this.waiters.size === 0 && this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }
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

const unavailable = (message: string): IamError => new IamError('IAM_ERR_UNAVAILABLE', message);
