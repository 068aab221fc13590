import { EVENT_TYPES, isKnownEventType } from './event-catalogue';
import { webhookStreamId, type DomainEvent } from './events';
import { FieldChecks } from './field-rules';
import { IamError } from './iam-error';
import type { IdentityState } from './member-decisions';
import { checkPrecondition } from './precondition';
import { WebhookIndex, type WebhookState } from './webhook-index';

/**
 * Webhook subscriptions (issue 14 item 6, contract section 10): the deciders of their management. Whether a
 * target's address is private is the application's check (it depends on the operator's setting); the rules
 * here are the URL's syntax, the event types, the description and the per-organization limit.
 */

/** Most subscriptions made on one organization (its subtree's organizations have their own). */
export const MAX_WEBHOOKS_PER_ORG = 20;
/** Longest target URL, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Most event types one subscription names. */
export const MAX_WEBHOOK_EVENT_TYPES = 100;
/** Longest description, in characters. */
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 500;
/** Longest reason a subscription was switched off for. */
export const MAX_WEBHOOK_DISABLED_REASON_LENGTH = 1000;

/** What the webhook deciders read: the identity state and the live subscriptions. */
export type WebhookDecisionState = IdentityState;

export interface WebhookDefinitionInput {
  url: unknown;
  eventTypes?: unknown;
  description?: unknown;
}

export interface CreateWebhookSubscriptionCommand extends WebhookDefinitionInput {
  subscriptionId: string;
  orgId: string;
}

export interface UpdateWebhookSubscriptionCommand {
  subscriptionId: string;
  url?: unknown;
  eventTypes?: unknown;
  description?: unknown;
  enabled?: boolean;
  /** Who switches it off, as the reason names them (`user usr_...`, `client cli_...`). */
  changedBy: string;
  expectedVersion?: number;
}

// eslint-disable-next-line no-control-regex
const WHITE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

/** The live subscriptions of a state (none when the state has no index). */
const indexOf = (state: WebhookDecisionState): WebhookIndex => state.webhooks ?? new WebhookIndex();

/**
 * The URL's syntax (RFC 3986 via WHATWG URL): absolute, `https:` or `http:`, no userinfo (credentials in a
 * URL would enter the log), no fragment, at most MAX_WEBHOOK_URL_LENGTH characters. Returns the URL as given.
 */
export function webhookUrl(checks: FieldChecks, path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_WEBHOOK_URL_LENGTH) {
    checks.fail(path, `must be an absolute URL of at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
    return '';
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    checks.fail(path, 'must be an absolute URL');
    return '';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') checks.fail(path, 'must be an https: or http: URL');
  else if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(value))
    checks.fail(path, 'must not hold a user name or password');
  else if (value.includes('#')) checks.fail(path, 'must not hold a fragment');
  else if (WHITE_OR_CONTROL.test(value)) checks.fail(path, 'must not hold white space or control characters');
  return value;
}

/** Event types of the catalogue, unique, at most MAX_WEBHOOK_EVENT_TYPES; empty (or absent) means every type. */
export function webhookEventTypes(checks: FieldChecks, path: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_WEBHOOK_EVENT_TYPES) {
    checks.fail(path, `must be a list of at most ${MAX_WEBHOOK_EVENT_TYPES} event types`);
    return [];
  }
  const seen = new Set<string>();
  value.forEach((type, i) => {
    if (typeof type !== 'string' || !isKnownEventType(type))
      checks.fail(`${path}/${i}`, `must be an event type of the catalogue (${EVENT_TYPES.length} types)`);
    else if (seen.has(type)) checks.fail(`${path}/${i}`, 'is named twice');
    else seen.add(type);
  });
  return [...seen];
}

/** At most MAX_WEBHOOK_DESCRIPTION_LENGTH characters, trimmed; absent is empty. */
export function webhookDescription(checks: FieldChecks, path: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || [...value].length > MAX_WEBHOOK_DESCRIPTION_LENGTH) {
    checks.fail(path, `must be a text of at most ${MAX_WEBHOOK_DESCRIPTION_LENGTH} characters`);
    return '';
  }
  return value.normalize('NFC').trim();
}

/** The subscription, or IAM_ERR_NOT_FOUND; IAM_ERR_PRECONDITION_FAILED when If-Match matched an older version. */
export function requireWebhook(
  state: WebhookDecisionState,
  subscriptionId: string,
  expectedVersion?: number,
): WebhookState {
  const subscription = indexOf(state).get(subscriptionId);
  if (!subscription) throw new IamError('IAM_ERR_NOT_FOUND', `Webhook subscription ${subscriptionId} does not exist.`);
  checkPrecondition('webhook subscription', subscription.version, expectedVersion);
  return subscription;
}

/**
 * A new subscription on `orgId`. Errors: IAM_ERR_VALIDATION (field errors at `/url`, `/eventTypes/<i>`,
 * `/description`), IAM_ERR_NOT_FOUND (no such organization), IAM_ERR_WEBHOOK_LIMIT (the organization has
 * MAX_WEBHOOKS_PER_ORG already).
 */
export function decideCreateWebhookSubscription(
  state: WebhookDecisionState,
  cmd: CreateWebhookSubscriptionCommand,
): DomainEvent[] {
  const checks = new FieldChecks();
  const url = webhookUrl(checks, '/url', cmd.url);
  const eventTypes = webhookEventTypes(checks, '/eventTypes', cmd.eventTypes);
  const description = webhookDescription(checks, '/description', cmd.description);
  checks.done('The webhook subscription is not valid.');
  if (!state.orgs.get(cmd.orgId)) throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${cmd.orgId} does not exist.`);
  if (indexOf(state).subscriptionsOf(cmd.orgId).length >= MAX_WEBHOOKS_PER_ORG)
    throw new IamError(
      'IAM_ERR_WEBHOOK_LIMIT',
      `An organization has at most ${MAX_WEBHOOKS_PER_ORG} webhook subscriptions; delete one first.`,
    );
  const data = { subscriptionId: cmd.subscriptionId, orgId: cmd.orgId, url, eventTypes, description };
  return [{ type: 'WebhookSubscriptionCreated', streamId: webhookStreamId(cmd.subscriptionId), data }];
}

/**
 * Changes what a subscription delivers (absent fields stay) and switches it off or on: `enabled` false records
 * WebhookSubscriptionDisabled with the reason `disabled by <changedBy>`, true WebhookSubscriptionEnabled; nothing
 * for what is unchanged. Errors: IAM_ERR_NOT_FOUND, IAM_ERR_PRECONDITION_FAILED, IAM_ERR_VALIDATION.
 */
export function decideUpdateWebhookSubscription(
  state: WebhookDecisionState,
  cmd: UpdateWebhookSubscriptionCommand,
): DomainEvent[] {
  const current = requireWebhook(state, cmd.subscriptionId, cmd.expectedVersion);
  const checks = new FieldChecks();
  const url = cmd.url === undefined ? current.url : webhookUrl(checks, '/url', cmd.url);
  const eventTypes =
    cmd.eventTypes === undefined ? current.eventTypes : webhookEventTypes(checks, '/eventTypes', cmd.eventTypes);
  const description =
    cmd.description === undefined ? current.description : webhookDescription(checks, '/description', cmd.description);
  checks.done('The webhook subscription is not valid.');
  const streamId = webhookStreamId(current.subscriptionId);
  const ids = { subscriptionId: current.subscriptionId, orgId: current.orgId };
  const events: DomainEvent[] = [];
  if (url !== current.url || eventTypes.join() !== current.eventTypes.join() || description !== current.description)
    events.push({ type: 'WebhookSubscriptionUpdated', streamId, data: { ...ids, url, eventTypes, description } });
  if (cmd.enabled === false && current.enabled)
    events.push({
      type: 'WebhookSubscriptionDisabled',
      streamId,
      data: { ...ids, reason: `disabled by ${cmd.changedBy}` },
    });
  if (cmd.enabled === true && !current.enabled)
    events.push({ type: 'WebhookSubscriptionEnabled', streamId, data: ids });
  return events;
}

/**
 * The dispatcher switches a subscription off after repeated failures; `reason` names the last one. Nothing
 * when it is off already. Errors: IAM_ERR_NOT_FOUND, IAM_ERR_VALIDATION (an empty or overlong reason).
 */
export function decideDisableWebhookSubscription(
  state: WebhookDecisionState,
  cmd: { subscriptionId: string; reason: string },
): DomainEvent[] {
  const current = requireWebhook(state, cmd.subscriptionId);
  const reason = cmd.reason.trim();
  if (reason.length === 0 || [...reason].length > MAX_WEBHOOK_DISABLED_REASON_LENGTH)
    throw new IamError('IAM_ERR_VALIDATION', 'The reason is not valid.', [
      { path: '/reason', message: `must be 1 to ${MAX_WEBHOOK_DISABLED_REASON_LENGTH} characters` },
    ]);
  if (!current.enabled) return [];
  return [
    {
      type: 'WebhookSubscriptionDisabled',
      streamId: webhookStreamId(current.subscriptionId),
      data: { subscriptionId: current.subscriptionId, orgId: current.orgId, reason },
    },
  ];
}

/**
 * A new signing secret (the vault stores it); the previous one keeps signing until `previousSecretExpiresAt`. That
 * instant also names the rotation's secret in the vault, so it is made later than the subscription's last rotation
 * (by 1 ms when the clock gives no later one): two rotations of one subscription never share a name.
 */
export function decideRotateWebhookSecret(
  state: WebhookDecisionState,
  cmd: { subscriptionId: string; previousSecretExpiresAt: string; expectedVersion?: number },
): DomainEvent[] {
  const current = requireWebhook(state, cmd.subscriptionId, cmd.expectedVersion);
  const last = current.lastRotation === undefined ? -Infinity : Date.parse(current.lastRotation);
  const asked = Date.parse(cmd.previousSecretExpiresAt);
  const previousSecretExpiresAt = asked > last ? cmd.previousSecretExpiresAt : new Date(last + 1).toISOString();
  return [
    {
      type: 'WebhookSecretRotated',
      streamId: webhookStreamId(current.subscriptionId),
      data: { subscriptionId: current.subscriptionId, orgId: current.orgId, previousSecretExpiresAt },
    },
  ];
}

/**
 * Deliver again from log position `fromPosition` (inclusive): a whole number from 1 to the log's head as the
 * model knows it. Errors: IAM_ERR_NOT_FOUND, IAM_ERR_PRECONDITION_FAILED, IAM_ERR_VALIDATION (`/fromPosition`).
 */
export function decideRequestWebhookReplay(
  state: WebhookDecisionState,
  cmd: { subscriptionId: string; fromPosition: number; expectedVersion?: number },
): DomainEvent[] {
  const current = requireWebhook(state, cmd.subscriptionId, cmd.expectedVersion);
  const head = indexOf(state).head;
  if (!Number.isSafeInteger(cmd.fromPosition) || cmd.fromPosition < 1 || cmd.fromPosition > head)
    throw new IamError('IAM_ERR_VALIDATION', 'The replay position is not valid.', [
      { path: '/fromPosition', message: `must be a log position from 1 to ${head} (the log's head)` },
    ]);
  return [
    {
      type: 'WebhookReplayRequested',
      streamId: webhookStreamId(current.subscriptionId),
      data: { subscriptionId: current.subscriptionId, orgId: current.orgId, fromPosition: cmd.fromPosition },
    },
  ];
}

/** Ends a subscription (its secrets go once this is committed). Errors: IAM_ERR_NOT_FOUND, IAM_ERR_PRECONDITION_FAILED. */
export function decideDeleteWebhookSubscription(
  state: WebhookDecisionState,
  cmd: { subscriptionId: string; expectedVersion?: number },
): DomainEvent[] {
  const current = requireWebhook(state, cmd.subscriptionId, cmd.expectedVersion);
  return [webhookDeleted(current)];
}

/**
 * What deleting an organization does to the subscriptions made on it: each ends with a
 * WebhookSubscriptionDeleted, before the organization's OrgDeleted (no subscription outlives its organization).
 */
export function webhooksEndingWith(webhooks: WebhookIndex | undefined, orgId: string): DomainEvent[] {
  if (!webhooks) return [];
  return webhooks.subscriptionsOf(orgId).map((id) => webhookDeleted(webhooks.get(id)!));
}

const webhookDeleted = (s: WebhookState): DomainEvent => ({
  type: 'WebhookSubscriptionDeleted',
  streamId: webhookStreamId(s.subscriptionId),
  data: { subscriptionId: s.subscriptionId, orgId: s.orgId },
});

/**
 * A move takes a subtree out from under the organizations whose `events:read` holders may have made its
 * subscriptions (a client of the old tree, say): each enabled subscription made in the moved subtree is switched
 * off, by a `WebhookSubscriptionDisabled` whose reason names the move, so that no delivery goes on to a URL chosen
 * by someone who may no longer read the subtree. Holders of `events:read` where it now sits decide whether to
 * enable it again. `subtreeIds` are the moved organization and everything below it.
 */
export function webhooksPausedByMove(
  webhooks: WebhookIndex | undefined,
  subtreeIds: Iterable<string>,
  move: { orgId: string; toParentId: string | null },
): DomainEvent[] {
  if (!webhooks) return [];
  const reason = `organization ${move.orgId} moved under ${move.toParentId ?? 'the top level'}: enable it again to keep delivering`;
  const events: DomainEvent[] = [];
  for (const orgId of subtreeIds)
    for (const id of webhooks.subscriptionsOf(orgId)) {
      const s = webhooks.get(id)!;
      if (s.enabled)
        events.push({
          type: 'WebhookSubscriptionDisabled',
          streamId: webhookStreamId(s.subscriptionId),
          data: { subscriptionId: s.subscriptionId, orgId: s.orgId, reason },
        });
    }
  return events;
}
