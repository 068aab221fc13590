import type { EventStoreTransaction, QueuedTransaction as QueuedTransactionOf } from '@arbor/application';
import type { PoolClient, QueryResult } from 'pg';
import { ChainTip, type LastLinkRow } from './chain-tip';
import type { EventStatements } from './event-reads';
import { PostgresEventStoreTransaction } from './postgres-event-store-transaction';

/** A `transaction()` call waiting for its group (see GroupCommitQueue). */
export type QueuedTransaction = QueuedTransactionOf<EventStoreTransaction>;

export interface WriteGroupOptions {
  /**
   * Opens the transaction, takes the writers' advisory lock and reads the last link (`EventStatements.lastLink`):
   * one simple query of three statements.
   */
  beginSql: string;
  st: EventStatements;
  /** Runs one callback, marking its async context as inside a transaction (to refuse nested calls). */
  runWork: (work: QueuedTransaction['work'], tx: EventStoreTransaction) => Promise<unknown>;
}

export interface WriteGroupResult {
  /** A connection error met on the way: the client must not go back to the pool. */
  broken: Error | undefined;
  /** True when a transaction of the group failed: its caller may need a turn to react before the next one. */
  anyFailed: boolean;
  /** Settles every caller's promise (after the COMMIT or ROLLBACK has completed). */
  settle(): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The callbacks' savepoint: ROLLBACK TO keeps it for the next callback, RELEASE + SAVEPOINT renews it. */
const SAVEPOINT = 'arbor_tx';

/**
 * Runs the `transaction()` callbacks of `group` one after another in ONE PostgreSQL transaction on `client`,
 * each in a savepoint of its own, so that they share one BEGIN, one wait for the writers' lock and one
 * COMMIT (one WAL flush). Invariants:
 * - a callback that throws, or one of whose statements failed (even if the callback caught the error, the
 *   savepoint is then aborted), is rolled back to its savepoint: only its caller gets an error, and the
 *   callbacks after it see none of its writes;
 * - nobody's promise settles before the COMMIT (or ROLLBACK) has completed: `settle()` is separate, and a
 *   callback that succeeded is reported as committed only if the COMMIT succeeded;
 * - an error of the group's own statements (BEGIN, lock, savepoints, COMMIT, or COMMIT answered as
 *   ROLLBACK) fails every callback of the group that had not already failed on its own, including those
 *   not run yet: the group is rolled back as a whole.
 * The savepoint statements are sent without waiting for their answer (no extra event-loop turn inside
 * the lock): the next callback's first statement queues behind them on the client, which runs statements
 * in order. Before COMMIT the group waits for them all, so a failed one (after which a later ROLLBACK TO
 * could land on an older savepoint and undo a callback reported as committed) always fails the group.
 */
export async function runWriteGroup(
  client: PoolClient,
  group: readonly QueuedTransaction[],
  options: WriteGroupOptions,
): Promise<WriteGroupResult> {
  const run = new GroupRun(client, options);
  await run.run(group);
  return {
    broken: run.broken,
    anyFailed: run.failure !== undefined || run.outcomes.some((o) => !o.ok),
    settle: () => run.settle(group),
  };
}

class GroupRun {
  broken: Error | undefined;
  /** The first error of the group's own statements: it fails the whole group. */
  failure: { error: unknown } | undefined;
  readonly outcomes: Outcome[] = [];
  /** Read with the lock; undefined until then. */
  private tip: ChainTip | undefined;
  /** The last savepoint statement sent; they complete in order, so awaiting it awaits them all. */
  private lastSent: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: PoolClient,
    private readonly options: WriteGroupOptions,
  ) {}

  async run(group: readonly QueuedTransaction[]): Promise<void> {
    const client = this.client;
    try {
      // The first savepoint comes with the BEGIN and the lock: one round trip, and the first callback only
      // starts once the lock is held.
      const results = (await client.query(
        `${this.options.beginSql}; SAVEPOINT ${SAVEPOINT}`,
      )) as unknown as QueryResult[];
      this.tip = ChainTip.of(results[results.length - 2].rows[0] as LastLinkRow | undefined);
    } catch (error) {
      this.fail(error);
    }
    for (let i = 0; i < group.length && this.failure === undefined; i++) {
      const outcome = await this.runOne(group[i].work);
      this.outcomes.push(outcome);
      if (!outcome.ok) this.send(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
      else if (i < group.length - 1) this.send(`RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`);
      // (The last savepoint is left to the COMMIT, which commits it.)
    }
    await this.lastSent;
    if (this.failure === undefined) {
      try {
        const commit = await client.query('COMMIT');
        // A COMMIT in an aborted transaction rolls back and says so.
        if (commit.command === 'ROLLBACK') {
          this.fail(
            new Error('The event store transaction was rolled back by PostgreSQL: a statement in it had failed.'),
          );
        }
      } catch (error) {
        // Whether the commit happened is unknown (e.g. the connection dropped): reported as a failure.
        this.fail(error);
      }
    }
    if (this.failure !== undefined) {
      await client.query('ROLLBACK').catch((error: Error) => (this.broken ??= error));
    }
  }

  settle(group: readonly QueuedTransaction[]): void {
    group.forEach((item, i) => {
      const outcome: Outcome | undefined = this.outcomes[i];
      if (outcome !== undefined && !outcome.ok) item.reject(outcome.error);
      else if (this.failure !== undefined) item.reject(this.failure.error);
      else if (outcome !== undefined) item.resolve(outcome.value);
      // Unreachable: without a failure of the group, every transaction ran.
      else item.reject(new Error('The event store transaction was not run.'));
    });
  }

  /** Runs one callback; if it fails, its savepoint is rolled back and the chain tip goes back with it. */
  private async runOne(work: QueuedTransaction['work']): Promise<Outcome> {
    const tip = this.tip as ChainTip;
    const mark = tip.mark();
    const outcome = await this.runCallback(work, tip);
    if (!outcome.ok) tip.restore(mark);
    return outcome;
  }

  private async runCallback(work: QueuedTransaction['work'], tip: ChainTip): Promise<Outcome> {
    const tx = new PostgresEventStoreTransaction(this.client, this.options.st, tip);
    try {
      const value = await this.options.runWork(work, tx);
      await tx.drainAppends();
      tx.end();
      const failed = await tx.settle();
      if (failed === undefined) return { ok: true, value };
      this.noteConnectionError(failed.error);
      const message = 'The event store transaction was rolled back: a statement in it had failed.';
      return { ok: false, error: new Error(message, { cause: failed.error }) };
    } catch (error) {
      this.noteConnectionError(error);
      return { ok: false, error };
    } finally {
      tx.end();
    }
  }

  private send(sql: string): void {
    this.lastSent = this.client.query(sql).then(
      () => undefined,
      (error: unknown) => this.fail(error),
    );
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.noteConnectionError(error);
  }

  private noteConnectionError(error: unknown): void {
    if (isConnectionError(error)) this.broken ??= error as Error;
  }
}

export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  // Node socket errors (ECONNRESET, EPIPE...) and PostgreSQL's class 08 (connection exception) / 57P0x.
  return typeof code === 'string' && (code.startsWith('E') || code.startsWith('08') || code.startsWith('57P'));
}
