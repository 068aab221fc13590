import type { EventDataByType } from '../events';
import { eventDataSchema, field, pathOfOrg, type EventTypeEntry } from './catalogue-entry';

type WebhookEventType =
  | 'WebhookSubscriptionCreated'
  | 'WebhookSubscriptionUpdated'
  | 'WebhookSecretRotated'
  | 'WebhookSubscriptionDisabled'
  | 'WebhookSubscriptionEnabled'
  | 'WebhookReplayRequested'
  | 'WebhookSubscriptionDeleted';

const subscription = {
  subscriptionId: { type: 'string', pattern: '^whk_[0-9a-z]+$' },
  orgId: field.orgId,
} as const;

/** Target and filter: an absolute http(s) URL without userinfo or fragment; event types (empty: all); a description. */
const definition = {
  ...subscription,
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  eventTypes: { type: 'array', items: { type: 'string', pattern: '^[A-Z][A-Za-z0-9]*$' }, uniqueItems: true },
  description: { type: 'string', maxLength: 500 },
};

/**
 * Webhook subscriptions (issue 14 item 6, contract section 10; streams `webhook-<subscriptionId>`), each about
 * the organization whose subtree it covers. No event carries a signing secret: only the vault holds them.
 */
export const WEBHOOK_EVENTS = {
  WebhookSubscriptionCreated: {
    version: 1,
    schema: eventDataSchema('WebhookSubscriptionCreated', 1, definition),
    orgPath: pathOfOrg,
  },
  WebhookSubscriptionUpdated: {
    version: 1,
    schema: eventDataSchema('WebhookSubscriptionUpdated', 1, definition),
    orgPath: pathOfOrg,
  },
  WebhookSecretRotated: {
    version: 1,
    schema: eventDataSchema(
      'WebhookSecretRotated',
      1,
      {
        ...subscription,
        previousSecretExpiresAt: { type: 'string', minLength: 1, description: 'An instant, ISO 8601.' },
      },
      undefined,
      'previousSecretExpiresAt: until when the secret it replaced still signs deliveries too.',
    ),
    orgPath: pathOfOrg,
  },
  WebhookSubscriptionDisabled: {
    version: 1,
    schema: eventDataSchema('WebhookSubscriptionDisabled', 1, {
      ...subscription,
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
    }),
    orgPath: pathOfOrg,
  },
  WebhookSubscriptionEnabled: {
    version: 1,
    schema: eventDataSchema('WebhookSubscriptionEnabled', 1, subscription),
    orgPath: pathOfOrg,
  },
  WebhookReplayRequested: {
    version: 1,
    schema: eventDataSchema('WebhookReplayRequested', 1, {
      ...subscription,
      fromPosition: { type: 'integer', minimum: 1 },
    }),
    orgPath: pathOfOrg,
  },
  WebhookSubscriptionDeleted: {
    version: 1,
    schema: eventDataSchema('WebhookSubscriptionDeleted', 1, subscription),
    orgPath: pathOfOrg,
  },
} satisfies { [K in WebhookEventType]: EventTypeEntry<EventDataByType[K]> };
