import type {
  AppendResult,
  EventStoreTransaction,
  ExpectedVersion,
  IdempotencyRecord,
  NewEvent,
} from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import type { PoolClient } from 'pg';
import { randomUUID } from 'node:crypto';
import { EventReads, type EventStatements } from './event-reads';

/**
 * The handle a `transaction()` callback works with. Every call runs on the one client that
 * `PostgresEventStore.transaction` checked out, inside its BEGIN and after its advisory lock; once that
 * transaction has ended the handle refuses further use, so a leaked handle can never write outside it.
 */
export class PostgresEventStoreTransaction implements EventStoreTransaction {
  private ended = false;
  private readonly reads: EventReads;

  constructor(
    private readonly client: PoolClient,
    private readonly st: EventStatements,
  ) {
    this.reads = new EventReads(client, st);
  }

  end(): void {
    this.ended = true;
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    this.assertActive();
    return this.reads.readStream(streamId);
  }

  async readAll(after: number, limit: number): Promise<StoredEvent[]> {
    this.assertActive();
    return this.reads.readAll(after, limit);
  }

  async append(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.assertActive();
    const { rows } = await this.client.query<{ v: number }>(this.st.named('streamVersion', [streamId]));
    const actual = rows[0]?.v ?? 0;
    const matches = expected === 'any' || (expected === 'no_stream' ? actual === 0 : expected === actual);
    if (!matches) return { ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId, expected, actual };
    if (events.length === 0) {
      return { ok: true, events: [], streamVersion: actual, lastPosition: await this.reads.headPosition() };
    }

    // Positions come from the sequence while this transaction holds the writers' advisory lock, which is
    // only released after the commit is visible, so positions grow in commit order (see PostgresEventStore).
    const occurredAt = new Date().toISOString();
    const drafts = events.map((event, i) => ({
      id: randomUUID(),
      streamVersion: actual + i + 1,
      event,
      orgPath: [...event.orgPath],
    }));
    const inserted = await this.client.query<{ id: string; position: string }>(
      this.st.named('insertEvents', [
        streamId,
        occurredAt,
        drafts.map((d) => d.id),
        drafts.map((d) => d.streamVersion),
        drafts.map((d) => d.event.type),
        drafts.map((d) => d.event.actor.type),
        drafts.map((d) => d.event.actor.id),
        drafts.map((d) => JSON.stringify(d.event.data ?? null)),
        drafts.map((d) => JSON.stringify(d.orgPath)),
      ]),
    );
    const positions = new Map(inserted.rows.map((r) => [r.id, Number(r.position)]));
    const stored: StoredEvent[] = drafts.map(({ id, streamVersion, event, orgPath }) => {
      const position = positions.get(id);
      if (position === undefined) throw new Error(`The insert of event ${id} returned no position.`);
      const actor = { type: event.actor.type, id: event.actor.id };
      return { id, type: event.type, streamId, streamVersion, position, occurredAt, actor, data: event.data, orgPath };
    });
    const orgIds: string[] = [];
    const orgPositions: number[] = [];
    for (const e of stored) {
      for (const orgId of e.orgPath) {
        orgIds.push(orgId);
        orgPositions.push(e.position);
      }
    }
    if (orgIds.length > 0) await this.client.query(this.st.named('insertEventOrgs', [orgIds, orgPositions]));
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
    await this.client.query(
      this.st.named('saveIdempotency', [record.scope, record.key, record.requestHash, record.createdAt, response]),
    );
  }

  private assertActive(): void {
    if (this.ended) throw new Error('This event store transaction has already ended.');
  }
}
