import {
  chainHash,
  storedMetadataOf,
  type AppendResult,
  type EventStoreTransaction,
  type ExpectedVersion,
  type IdempotencyRecord,
  type NewEvent,
} from '@arbor/application';
import { newEventId, type StoredEvent } from '@arbor/domain';
import type { PoolClient, QueryConfig, QueryResultRow } from 'pg';
import type { ChainTip } from './chain-tip';
import { EventReads, type EventStatements, type Queryable } from './event-reads';

/**
 * The handle a `transaction()` callback works with. Every call runs on the client of the group that
 * `PostgresEventStore` runs it in, inside that group's BEGIN, advisory lock and this callback's own
 * savepoint; once the callback has ended the handle refuses further use, so a leaked handle can never
 * write outside its savepoint.
 */
export class PostgresEventStoreTransaction implements EventStoreTransaction {
  private ended = false;
  private readonly db: StatementTracker;
  private readonly reads: EventReads;
  /** Appends run one after another (each chains onto the one before), even if the callback does not wait. */
  private appending: Promise<unknown> = Promise.resolve();

  constructor(
    client: PoolClient,
    private readonly st: EventStatements,
    /** The group's chain tip: appends advance it. */
    private readonly tip: ChainTip,
  ) {
    this.db = new StatementTracker(client);
    this.reads = new EventReads(this.db, st);
  }

  end(): void {
    this.ended = true;
  }

  /**
   * Waits for the appends the callback started and did not wait for: each is queued behind the one before (they
   * chain onto each other), so its statement may not have been sent when the callback returns.
   */
  async drainAppends(): Promise<void> {
    await this.appending;
  }

  /**
   * Waits for the statements the callback started and did not wait for, then returns the error of the
   * first one that failed, if one did. A failed statement aborts the savepoint even when the callback caught
   * the error: the group must then roll it back instead of releasing it.
   */
  async settle(): Promise<{ error: unknown } | undefined> {
    return this.db.settle();
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    this.assertActive();
    return this.reads.readStream(streamId);
  }

  async readAll(after: number, limit: number): Promise<StoredEvent[]> {
    this.assertActive();
    return this.reads.readAll(after, limit);
  }

  /**
   * One round trip (see `EventStatements.append`): the version check and the inserts run as one statement,
   * so a conflict writes nothing. Positions come from the sequence while the group holds the writers'
   * advisory lock, which is only released after the commit is visible, so positions grow in commit order
   * (see PostgresEventStore). The time and the chain's hashes are computed here from the group's chain tip and
   * the expected version (read first for 'any', the one case that costs a second round trip).
   */
  async append(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.assertActive();
    const result = this.appending.then(() => this.appendNext(streamId, events, expected));
    this.appending = result.catch(() => undefined);
    return result;
  }

  private async appendNext(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0 || expected === 'any') {
      const nothing = this.st.named('appendNothing', [streamId]);
      const { rows } = await this.db.query<{ v: number; head: string }>(nothing);
      const actual = rows[0].v;
      if (!matches(expected, actual))
        return { ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId, expected, actual };
      if (events.length > 0) return this.insert(streamId, events, actual, expected);
      return { ok: true, events: [], streamVersion: actual, lastPosition: Number(rows[0].head) };
    }
    return this.insert(streamId, events, expected === 'no_stream' ? 0 : expected, expected);
  }

  /** Inserts `events` if the stream is at `version`, chained onto the tip, which it then advances. */
  private async insert(
    streamId: string,
    events: NewEvent[],
    version: number,
    expected: ExpectedVersion,
  ): Promise<AppendResult> {
    const occurredAt = this.tip.stampAfter(new Date().toISOString());
    let prevHash = this.tip.prevHash();
    const drafts = events.map((event, i) => {
      const id = newEventId();
      const orgPath = [...event.orgPath];
      const actor = { type: event.actor.type, id: event.actor.id };
      const content = { id, type: event.type, streamId, streamVersion: version + i + 1, occurredAt, actor, orgPath };
      const metadata = storedMetadataOf(event);
      const prev = prevHash;
      prevHash = chainHash(prev, { ...content, data: event.data ?? null, ...metadata });
      return { id, event, orgPath, prevHash: prev, hash: prevHash, metadata };
    });
    const { rows } = await this.db.query<{ v: number; id: string | null; position: string | null }>(
      this.st.named('append', [
        streamId,
        occurredAt,
        versionParam(version),
        drafts.map((d) => d.id),
        drafts.map((d) => d.event.type),
        drafts.map((d) => d.event.actor.type),
        drafts.map((d) => d.event.actor.id),
        drafts.map((d) => JSON.stringify(d.event.data ?? null)),
        drafts.map((d) => JSON.stringify(d.orgPath)),
        drafts.map((d) => d.prevHash),
        drafts.map((d) => d.hash),
        drafts.map((d) =>
          d.metadata.requestMetadata === undefined ? null : JSON.stringify(d.metadata.requestMetadata),
        ),
        drafts.map((d) => d.metadata.metadataDigest ?? null),
      ]),
    );
    const actual = rows[0].v;
    if (rows[0].id === null) {
      if (actual === version) throw new Error(`The append to ${streamId} inserted nothing at version ${actual}.`);
      return { ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId, expected, actual };
    }
    this.tip.advance(occurredAt, prevHash);
    const positions = new Map(rows.map((r) => [r.id, Number(r.position)]));
    const stamped = occurredAt;
    const stored: StoredEvent[] = drafts.map(({ id, event, orgPath, metadata }, i) => {
      const position = positions.get(id);
      if (position === undefined) throw new Error(`The insert of event ${id} returned no position.`);
      const actor = { type: event.actor.type, id: event.actor.id };
      const streamVersion = actual + i + 1;
      const data = event.data;
      return {
        id,
        type: event.type,
        streamId,
        streamVersion,
        position,
        occurredAt: stamped,
        actor,
        data,
        orgPath,
        ...metadata,
      };
    });
    return {
      ok: true,
      events: stored,
      streamVersion: actual + stored.length,
      lastPosition: stored[stored.length - 1].position,
    };
  }

  async findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    this.assertActive();
    return this.reads.findIdempotency(scope, key);
  }

  /** Replaces a record with the same scope and key (the command side only saves after finding none fresh). */
  async saveIdempotency(record: IdempotencyRecord): Promise<void> {
    this.assertActive();
    const response = record.response === undefined ? null : JSON.stringify(record.response);
    await this.db.query(
      this.st.named('saveIdempotency', [record.scope, record.key, record.requestHash, record.createdAt, response]),
    );
  }

  private assertActive(): void {
    if (this.ended) throw new Error('This event store transaction has already ended.');
  }
}

const matches = (expected: ExpectedVersion, actual: number): boolean =>
  expected === 'any' || (expected === 'no_stream' ? actual === 0 : expected === actual);

/** `$3` of the append: a number no version can have (-1) never matches. */
function versionParam(version: number): number {
  return Number.isInteger(version) && version >= 0 && version <= 2 ** 31 - 1 ? version : -1;
}

/** The client as one callback's statements use it: remembers the first that failed and those still running. */
class StatementTracker implements Queryable {
  private failure: { error: unknown } | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly client: PoolClient) {}

  query<R extends QueryResultRow>(config: QueryConfig) {
    const result = this.client.query<R>(config);
    this.running.add(result);
    // Registered before the caller's own handlers, so the failure is recorded before the callback sees it.
    result.then(
      () => this.running.delete(result),
      (error: unknown) => {
        this.running.delete(result);
        this.failure ??= { error };
      },
    );
    return result;
  }

  async settle(): Promise<{ error: unknown } | undefined> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    return this.failure;
  }
}
