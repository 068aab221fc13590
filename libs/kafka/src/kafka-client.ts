import type { Logger } from '@arbor/application';
import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';

export interface KafkaConnectionOptions {
  /** `host:port` list, or one comma-separated string (as in a `KAFKA_BROKERS` variable). */
  brokers: string[] | string;
  clientId?: string;
  /** kafkajs' own warnings and errors go here (as `warn`); without a logger they are dropped. */
  logger?: Logger;
  /** Anything else kafkajs accepts (ssl, sasl, timeouts), merged over the defaults. */
  kafkaConfig?: Partial<KafkaConfig>;
}

export function parseBrokers(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(',')).map((b) => b.trim()).filter((b) => b !== '');
  if (list.length === 0) throw new Error('No Kafka broker given.');
  return list;
}

/** Routes kafkajs' log entries (warnings and errors only: its info level is chatty) to our logger. */
function logCreatorFor(logger: Logger | undefined): logCreator {
  return () => (entry) => {
    if (logger === undefined || entry.level > logLevel.WARN) return;
    const { message, ...fields } = entry.log;
    // The publisher limits its idempotent producer's retries on purpose and replaces the producer after a
    // failure (duplicates are allowed, losses are not): kafkajs' warning about it is noise here.
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    logger.warn(`kafka: ${message}`, { namespace: entry.namespace, ...fields });
  };
}

export function createKafkaClient(options: KafkaConnectionOptions, defaultClientId: string): Kafka {
  return new Kafka({
    clientId: options.clientId ?? defaultClientId,
    brokers: parseBrokers(options.brokers),
    logLevel: logLevel.WARN,
    logCreator: logCreatorFor(options.logger),
    ...options.kafkaConfig,
  });
}
