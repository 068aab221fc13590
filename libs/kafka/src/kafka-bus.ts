import type { Bus, BusHandler, Logger } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs';
import { createKafkaClient, type KafkaConnectionOptions } from './kafka-client';
import { DEFAULT_EVENTS_TOPIC, decodeEventMessage } from './kafka-event-message';

export interface KafkaBusOptions extends KafkaConnectionOptions {
  /**
   * The consumer group. Instances of one service share it (each event reaches one of them); every
   * service, or every replica that must see everything (a projector per read-model database), has its own.
   */
  groupId: string;
  topic?: string;
  /**
   * Where a group without committed offsets starts. Default false (the newest messages): subscribers such
   * as the projector catch up from the event log by position, so older messages would only be re-read.
   */
  fromBeginning?: boolean;
  /** The write side's relay to wake on `publish` (see `KafkaEventPublisher`); without one, `publish` does nothing. */
  publisher?: { notify(): void };
  /** Partitions handled at once. Order is kept within each partition either way. Default 1. */
  partitionsConsumedConcurrently?: number;
  /**
   * Overrides for the kafkajs consumer, e.g. `sessionTimeout` (default 30 s): after a broker restart the
   * group waits that long for the members it knew before it reassigns partitions.
   */
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
  /** How long `close` waits for the consumer to leave its group, in ms (default CLOSE_WAIT_MS). */
  closeWaitMs?: number;
}

/**
 * What `close` waits, at most, for the consumer to leave its group, in ms. A consumer that asked to join while
 * the group rebalances is answered only when the rebalance ends, and kafkajs' `disconnect` waits for that answer:
 * after a member died without leaving (SIGKILL, a lost machine), until the broker gives up on it (its session
 * timeout, 30 s by default). A process stopping (SIGTERM) would wait that long, and longer than the 30 s its
 * shutdown is allowed. Past this bound `close` returns without the leave: nothing is lost (every subscriber's
 * checkpoint is in its own database, not in Kafka's offsets), the group only waits for this member's session to
 * time out as it does for a dead one, and the disconnect still under way ends by itself.
 */
export const CLOSE_WAIT_MS = 3_000;

/**
 * The distributed profile's bus.
 *
 * Design: the event log is the source of truth. Committed events reach Kafka through the
 * `KafkaEventPublisher`, which tails the log (never from the command path directly: an event in Kafka is
 * always a committed one, and a committed one always gets there, at least once). This bus is the
 * receiving end: it consumes the topic in a consumer group and hands the events to its subscribers, in
 * partition order, i.e. in log order within each organization tree.
 *
 * Handlers get runs of consecutive positions only: a partition's batch is cut wherever the position jumps
 * (the missing events are on other partitions), so a subscriber that applies a delivery continuing its
 * checkpoint as is (the Projector does) never skips an event. Deliveries may repeat (at-least-once) and
 * a handler error is logged, not retried: subscribers catch up from the log (see the Bus port).
 *
 * Broker outages: kafkajs retries with backoff and restarts the consumer after a failure; errors it would
 * not restart on, and a failed first connection, are retried here. A restarted broker thus resumes
 * delivery without restarting the process (and the subscribers' log catch-up covers the gap anyway).
 */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private readonly topic: string;
  private readonly handlers = new Set<BusHandler>();
  private readonly log: Logger | undefined;
  private consumer: Consumer | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private wakeBackoff: (() => void) | undefined;
  private markJoined: () => void = () => undefined;
  private readonly joined: Promise<void>;

  constructor(private readonly options: KafkaBusOptions) {
    this.kafka = createKafkaClient(options, `arbor-bus-${options.groupId}`);
    this.topic = options.topic ?? DEFAULT_EVENTS_TOPIC;
    this.log = options.logger;
    this.joined = new Promise((resolve) => (this.markJoined = resolve));
  }

  /** The events are in the log already: this only wakes the attached publisher, if any. */
  async publish(_events: StoredEvent[]): Promise<void> {
    this.options.publisher?.notify();
  }

  /** The first subscription starts the consumer (in the background: see `ready`). */
  subscribe(handler: BusHandler): () => void {
    if (this.closed) throw new Error('The Kafka bus is closed.');
    this.handlers.add(handler);
    if (!this.running) this.running = this.startConsumer();
    return () => this.handlers.delete(handler);
  }

  /** Resolves once the consumer has joined its group for the first time (partitions assigned). */
  ready(): Promise<void> {
    return this.joined;
  }

  /**
   * Stops consuming and leaves the group, waiting for that at most `closeWaitMs` (see CLOSE_WAIT_MS); never
   * throws. Handlers are called no more once it has begun.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.wakeBackoff?.();
    this.handlers.clear();
    const leave = async () => {
      // Disconnecting first also ends a start in progress (its connect or subscribe then fails).
      await this.consumer?.disconnect().catch(() => undefined);
      await this.running;
      await this.consumer?.disconnect().catch(() => undefined);
    };
    let timer: NodeJS.Timeout | undefined;
    const waitMs = this.options.closeWaitMs ?? CLOSE_WAIT_MS;
    const left = await Promise.race([
      leave().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs))),
    ]);
    clearTimeout(timer);
    if (!left)
      this.log?.warn('kafka bus: closed without leaving the consumer group (a rebalance is under way)', {
        groupId: this.options.groupId,
        waitedMs: waitMs,
      });
    this.consumer = undefined;
  }

  /** Connects, subscribes and runs a consumer, retrying with backoff until it runs or the bus closes. */
  private async startConsumer(): Promise<void> {
    for (let failures = 0; !this.closed; failures++) {
      const consumer = this.createConsumer();
      this.consumer = consumer;
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [this.topic], fromBeginning: this.options.fromBeginning ?? false });
        await consumer.run({
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
          eachBatch: (payload) => this.handleBatch(payload),
        });
        return;
      } catch (e) {
        await consumer.disconnect().catch(() => undefined);
        const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 10));
        this.log?.warn('kafka bus: the consumer could not start; will retry', { error: String(e), retryInMs: delay });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => resolve(), delay);
          this.wakeBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeBackoff = undefined;
      }
    }
  }

  private createConsumer(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      // Retries with a capped backoff (minutes in all), then kafkajs restarts the consumer, and so on: a
      // broker down for any length of time is waited for.
      retry: {
        initialRetryTime: 300,
        maxRetryTime: 30_000,
        retries: 10,
        restartOnFailure: async () => !this.closed,
      },
      ...this.options.consumerConfig,
    });
    // kafkajs' `disconnect` does not cancel a restart already under way (one reconnecting to a broker that
    // is down, say): such a consumer would come back after `close`, so it is sent away again.
    const dismissIfClosed = () => {
      if (this.closed) void consumer.disconnect().catch(() => undefined);
    };
    consumer.on(consumer.events.CONNECT, dismissIfClosed);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      dismissIfClosed();
      this.markJoined();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts by itself after a retriable failure; after any other it stops for good, so a
      // fresh consumer takes over (its group resumes from the committed offsets).
      if (payload.restart || this.closed) return;
      this.log?.warn('kafka bus: the consumer stopped; replacing it', { error: String(payload.error) });
      this.restartTimer = setTimeout(() => {
        void (async () => {
          await consumer.disconnect().catch(() => undefined);
          if (this.closed) return;
          this.running = this.startConsumer();
        })();
      }, 1_000);
    });
    return consumer;
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    let run: StoredEvent[] = [];
    let runEnd: string | undefined;
    const flush = async () => {
      if (run.length > 0) await this.deliver(run);
      if (runEnd !== undefined) resolveOffset(runEnd);
      run = [];
      runEnd = undefined;
      await heartbeat();
    };
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      let event: StoredEvent;
      try {
        event = decodeEventMessage(message);
      } catch (e) {
        // Not ours to interpret: skipped, never redelivered forever.
        this.log?.warn('kafka bus: skipped a message that is not an event', {
          error: String(e),
          partition: batch.partition,
          offset: message.offset,
        });
        runEnd = message.offset;
        continue;
      }
      if (run.length > 0 && event.position !== run[run.length - 1].position + 1) await flush();
      run.push(event);
      runEnd = message.offset;
    }
    await flush();
  }

  private async deliver(events: StoredEvent[]): Promise<void> {
    for (const handler of [...this.handlers]) {
      try {
        await handler(events);
      } catch (e) {
        // Deliberately not retried: the bus is not the source of truth (see the Bus port).
        this.log?.warn('kafka bus: a subscriber failed', { error: String(e) });
      }
    }
  }
}
