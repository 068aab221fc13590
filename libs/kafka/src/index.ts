export { KafkaBus, type KafkaBusOptions } from './kafka-bus';
export {
  KafkaEventPublisher,
  type KafkaEventPublisherOptions,
  type PublisherCheckpoint,
} from './kafka-event-publisher';
export {
  DEFAULT_CLOUDEVENTS_SOURCE,
  DEFAULT_EVENTS_TOPIC,
  ORG_PATH_HEADER,
  decodeEventMessage,
  encodeEventMessage,
  eventMessageKey,
} from './kafka-event-message';
export { ensureTopic } from './ensure-topic';
export { createKafkaClient, parseBrokers, type KafkaConnectionOptions } from './kafka-client';
