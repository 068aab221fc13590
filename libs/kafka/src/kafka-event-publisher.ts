import type { EventStore, Logger } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { createKafkaClient, type KafkaConnectionOptions } from './kafka-client';
import { DEFAULT_CLOUDEVENTS_SOURCE, DEFAULT_EVENTS_TOPIC, encodeEventMessage } from './kafka-event-message';

/**
 * Where the publisher keeps the position of the last event the broker acknowledged. The caller provides
 * it (a row in the service's PostgreSQL, a file...): this library talks to Kafka only.
 */
export interface PublisherCheckpoint {
  /** The last acknowledged position, 0 before anything was published. */
  load(): Promise<number>;
  save(position: number): Promise<void>;
  /**
   * Optional: the relay's lease, so that of several publishers on one log (one per command service) one publishes
   * at a time. Takes or renews it for `owner` for `ttlMs` (ms; expiry on the store's clock) when it is free,
   * expired or `owner`'s own; resolves whether `owner` holds it now. Without it, every publisher publishes.
   */
  claim?(owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it (a clean stop: another publisher takes over at its next claim). */
  release?(owner: string): Promise<void>;
}

/** How long a publisher's lease lasts unrenewed (ms), and how often the holder renews it (each batch, at most). */
export const RELAY_LEASE_MS = 10_000;
const RELAY_RENEW_MS = 2_000;
/** How often a publisher standing by asks for the lease (ms). */
const RELAY_STANDBY_POLL_MS = 1_000;
/** publishNextBatch's answer while another publisher holds the lease. */
const STANDING_BY = -1;

export interface KafkaEventPublisherOptions extends KafkaConnectionOptions {
  /** The log to tail: the source of truth. */
  store: EventStore;
  checkpoint: PublisherCheckpoint;
  topic?: string;
  /** The CloudEvents `source` of every message (a URI-reference): the issuer. Default `urn:arbor:iam`. */
  source?: string;
  /** Events per produce request. Default 500. */
  batchSize?: number;
  /** How often the log is polled when nothing calls `notify()`. Default 100 ms. */
  pollIntervalMs?: number;
  /** Retry delays after a failure double from 100 ms up to this. Default 5 000 ms. */
  maxBackoffMs?: number;
}

/**
 * Moves committed events from the event log to Kafka (a transactional-outbox relay whose outbox is the log
 * itself).
 *
 * Design: the event log is the source of truth; Kafka only carries committed events to the projectors and
 * to other internal services. The publisher reads the log after its checkpoint, produces each batch with
 * `acks: -1` from an idempotent producer (one request in flight, so retries neither reorder nor, within
 * one producer session, duplicate), and saves the checkpoint only once the broker acknowledged the batch.
 * A crash or a broker outage therefore never loses an event; it may publish one again (a batch acknowledged
 * but not yet checkpointed): delivery is at-least-once, and consumers are idempotent (projectors apply by
 * position, and skip what they already have).
 *
 * Messages are keyed by root organization (see `eventMessageKey`): Kafka keeps order per partition, so each
 * organization tree's events arrive in log order; there is no order across trees.
 *
 * Several publishers may run on one log (one per command service): with a checkpoint that has a lease
 * (`PublisherCheckpoint.claim`), one publishes at a time and the others stand by, each taking over within
 * RELAY_LEASE_MS of the holder's death (at once after its clean stop) from the shared checkpoint. A holder stalled
 * past its lease may publish a batch beside its successor: a duplicate, which at-least-once allows.
 */
export class KafkaEventPublisher {
  private readonly kafka: Kafka;
  private readonly topic: string;
  private readonly source: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: Logger | undefined;
  private producer: Producer | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Set by `notify()`: the log may have grown since the last read. */
  private pending = false;
  private waker: { onNotify: boolean; wake: () => void } | undefined;
  private acknowledged = 0;
  /** The error of the last attempt when it failed (cleared by the next batch that goes through). */
  private lastFailure: string | undefined;
  /** This publisher's name in the lease (PublisherCheckpoint.claim). */
  private readonly owner = `publisher-${randomUUID()}`;
  /** When (ms since the epoch, this process's clock) the lease was last claimed successfully. */
  private leaseRenewedAt = 0;
  private holdsLease = false;

  constructor(private readonly options: KafkaEventPublisherOptions) {
    this.kafka = createKafkaClient(options, 'arbor-event-publisher');
    this.topic = options.topic ?? DEFAULT_EVENTS_TOPIC;
    this.source = options.source ?? DEFAULT_CLOUDEVENTS_SOURCE;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.log = options.logger;
  }

  /** The last position the broker acknowledged (and the checkpoint holds), as far as this publisher knows. */
  get position(): number {
    return this.acknowledged;
  }

  /** Whether this publisher publishes (`active`) or waits for another's lease to end (`standby`). */
  get role(): 'active' | 'standby' {
    return this.options.checkpoint.claim === undefined || this.holdsLease ? 'active' : 'standby';
  }

  /**
   * `ok` while the last attempt to publish (or to find nothing to publish) went through; otherwise its error, e.g.
   * a broker that cannot be reached: the events wait in the log, and readiness says so (`bus` check).
   */
  get health(): 'ok' | { failing: string } {
    return this.lastFailure === undefined ? 'ok' : { failing: this.lastFailure };
  }

  /** Loads the checkpoint and starts tailing the log in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.acknowledged = await this.options.checkpoint.load();
    this.stopping = false;
    this.pending = true;
    this.running = this.loop();
  }

  /** The log grew: publish now rather than at the next poll. */
  notify(): void {
    this.pending = true;
    if (this.waker?.onNotify) this.waker.wake();
  }

  /** For use as the write side's `Bus.publish`: the events are in the log already, so this only wakes the relay. */
  async publish(_events: StoredEvent[]): Promise<void> {
    this.notify();
  }

  /**
   * Stops after the batch in flight (if any) is acknowledged and checkpointed, or has failed; a retry
   * delay is cut short. Then disconnects the producer.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.waker?.wake();
    await this.running;
    this.running = undefined;
    await this.dropProducer();
    if (this.holdsLease) {
      this.holdsLease = false;
      await this.options.checkpoint.release?.(this.owner).catch(() => undefined);
    }
  }

  /**
   * Whether this publisher may publish now: without a lease always; with one, it claims it (at most every
   * RELAY_RENEW_MS while held) and, on taking it over, reads the checkpoint its predecessor left.
   */
  private async mayPublish(): Promise<boolean> {
    const claim = this.options.checkpoint.claim;
    if (claim === undefined) return true;
    if (this.holdsLease && Date.now() - this.leaseRenewedAt < RELAY_RENEW_MS) return true;
    const held = await claim.call(this.options.checkpoint, this.owner, RELAY_LEASE_MS);
    if (held && !this.holdsLease) {
      this.acknowledged = Math.max(this.acknowledged, await this.options.checkpoint.load());
      this.log?.info('kafka publisher: relaying the log', { position: this.acknowledged });
    } else if (!held && this.holdsLease) this.log?.warn('kafka publisher: another publisher took the relay over');
    this.holdsLease = held;
    if (held) this.leaseRenewedAt = Date.now();
    return held;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let published: number;
      try {
        published = await this.publishNextBatch();
        // Said once the broker takes events again, so that an operator who saw the warnings sees them end.
        if (failures > 0) this.log?.info('kafka publisher: publishing again', { position: this.acknowledged });
        failures = 0;
        this.lastFailure = undefined;
      } catch (e) {
        failures++;
        this.lastFailure = String(e);
        const delay = Math.min(this.maxBackoffMs, 100 * 2 ** Math.min(failures - 1, 16));
        this.log?.warn('kafka publisher: publishing failed; will retry', {
          error: String(e),
          position: this.acknowledged,
          retryInMs: delay,
        });
        // A fresh producer next time: an idempotent producer that saw a failed request may hold sequence
        // numbers the broker no longer accepts. Its replacement gets a new producer id.
        await this.dropProducer();
        await this.sleep(delay, false);
        continue;
      }
      if (published === STANDING_BY) await this.sleep(RELAY_STANDBY_POLL_MS, false);
      else if (published === 0) await this.sleep(this.pollIntervalMs, true);
    }
  }

  /** Returns how many events it published (0: the log has nothing after the checkpoint; STANDING_BY). */
  private async publishNextBatch(): Promise<number> {
    this.pending = false;
    // Standing by: the holder publishes; a notify does not help here (see the loop).
    if (!(await this.mayPublish())) return STANDING_BY;
    const batch = await this.options.store.readAll({ after: this.acknowledged, limit: this.batchSize });
    if (batch.length === 0) return 0;
    const producer = await this.connectedProducer();
    // acks -1: every in-sync replica has the batch. Only then does the checkpoint move.
    await producer.send({
      topic: this.topic,
      acks: -1,
      messages: batch.map((e) => encodeEventMessage(e, this.source)),
    });
    const last = batch[batch.length - 1].position;
    await this.options.checkpoint.save(last);
    this.acknowledged = last;
    return batch.length;
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java-compatible murmur2: a key lands on the same partition as with any other Kafka client.
      createPartitioner: Partitioners.DefaultPartitioner,
      // A few quick retries per batch; the loop's own backoff takes over after that.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000, ...this.options.kafkaConfig?.retry },
    });
    try {
      await producer.connect();
    } catch (e) {
      await producer.disconnect().catch(() => undefined);
      throw e;
    }
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Waits `ms`, less if stopped or (when `onNotify`) notified. */
  private sleep(ms: number, onNotify: boolean): Promise<void> {
    if (this.stopping || (onNotify && this.pending)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => wake(), ms);
      const wake = () => {
        clearTimeout(timer);
        this.waker = undefined;
        resolve();
      };
      this.waker = { onNotify, wake };
    });
  }
}
