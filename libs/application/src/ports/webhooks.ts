/**
 * Webhooks (issue 14 item 6; contract section 10): subscriptions per organization subtree and event types,
 * deliveries signed per the Standard Webhooks specification (https://www.standardwebhooks.com, v1 HMAC-SHA256),
 * at least once, in log order per subscription (so in order per organization tree).
 *
 * Two sides meet here:
 * - the management side (commands, events `WebhookSubscription*`, a read model of subscriptions, the signing
 *   secrets in the SecretVault) writes what `WebhookSubscriptionQueries` and `WebhookSecrets` read;
 * - the dispatcher reads the log from each subscription's cursor and keeps its own operational state (cursors,
 *   retries, the delivery log) in a `WebhookDeliveryStore`. That state is not domain state: it is not in the
 *   log, and a rebuild of the read models leaves it alone.
 */

/** A subscription as the read model keeps it (one row per subscription not deleted). */
export interface WebhookSubscriptionView {
  /** `whk_<ulid>`; the stream is `webhook-<subscriptionId>`. */
  subscriptionId: string;
  /** The organization whose subtree it covers: events whose `orgPath` holds this id. */
  orgId: string;
  /** An absolute `https:` (or, where the operator allows private targets, `http:`) URL without userinfo. */
  url: string;
  /** Event types delivered; empty means every type. */
  eventTypes: string[];
  description: string;
  /** False once switched off, by its owner or by the dispatcher after repeated failures. */
  enabled: boolean;
  /** Why it was switched off (the dispatcher's reason names the last failure); null while enabled. */
  disabledReason: string | null;
  /** The log position of the event that created it: deliveries begin with the events after it. */
  createdPosition: number;
  /**
   * The latest replay its owner asked for, or null: deliver again every matching event from `fromPosition`
   * (inclusive). `requestedPosition` is the position of the WebhookReplayRequested event, so the dispatcher
   * can tell a replay it has carried out from a new one.
   */
  replay: { fromPosition: number; requestedPosition: number } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** The read model's subscriptions. */
export interface WebhookSubscriptionQueries {
  /** Every subscription not deleted, enabled or not, in id order (the dispatcher's whole list). */
  listAll(): Promise<WebhookSubscriptionView[]>;
  get(subscriptionId: string): Promise<WebhookSubscriptionView | undefined>;
}

/** A signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks "Signature scheme"). */
export interface WebhookSecret {
  secret: string;
  /** Null for the current secret; for a rotated-out one, when it stops being used (ISO 8601). */
  expiresAt: string | null;
}

/** The signing secrets of subscriptions, in the SecretVault (never in the log). */
export interface WebhookSecrets {
  /** Current first, then rotated-out ones not yet expired; empty for an unknown or deleted subscription. */
  getWebhookSecrets(subscriptionId: string): Promise<WebhookSecret[]>;
}

/** Where a subscription's delivery stands. */
export interface WebhookCursor {
  subscriptionId: string;
  /** Every matching event at or below this position has been delivered (or skipped as not matching). */
  position: number;
  /** Failed attempts in a row at the event after `position`; 0 after a success. */
  failures: number;
  /** When the next attempt is due (ISO 8601); null: now. */
  nextAttemptAt: string | null;
  /** The `requestedPosition` of the last replay carried out (0: none). */
  replayedAt: number;
}

/** One delivery attempt, as the delivery log shows it to the subscription's owner. */
export interface WebhookAttempt {
  /** Increasing per store; the delivery log's page cursor. */
  attemptId: number;
  subscriptionId: string;
  /** The delivered event's id (the `webhook-id` header: the same on every attempt, for deduplication). */
  eventId: string;
  eventType: string;
  position: number;
  /** 1 for the first attempt at this event (per replay), 2 for the first retry, ... */
  attempt: number;
  attemptedAt: string;
  outcome: 'delivered' | 'failed';
  /** The receiver's HTTP status, or null when none came (refused, timed out, address not allowed). */
  httpStatus: number | null;
  /** A short reason for a failure (`timeout`, `connection refused`, `HTTP 500`, `address not allowed`); never a body. */
  error: string | null;
  /** Milliseconds from sending the request to its end. */
  durationMs: number;
}

/** The dispatcher's operational state: cursors, the delivery log and the lease that elects one dispatcher. */
export interface WebhookDeliveryStore {
  /** The cursor, or undefined before the subscription's first delivery or skip. */
  cursor(subscriptionId: string): Promise<WebhookCursor | undefined>;
  /** Inserts or replaces the cursor. */
  saveCursor(cursor: WebhookCursor): Promise<void>;
  /**
   * Appends `attempts` to the delivery log (in order: they get increasing ids) and replaces the cursor, both or
   * neither (one transaction).
   */
  saveProgress(cursor: WebhookCursor, attempts: ReadonlyArray<Omit<WebhookAttempt, 'attemptId'>>): Promise<void>;
  /** The subscription's attempts, newest first, `before` an attempt id (exclusive) when given. */
  attempts(subscriptionId: string, page: { limit: number; before?: number }): Promise<WebhookAttempt[]>;
  /** Forgets a deleted subscription's cursor (its delivery log stays until retention drops it). */
  dropCursor(subscriptionId: string): Promise<void>;
  /** The subscription ids that have a cursor, in id order (the sweep of deleted subscriptions' cursors). */
  cursorIds(): Promise<string[]>;
  /** Deletes delivery-log rows older than the instant (ISO 8601); returns how many. */
  purgeAttempts(attemptedBefore: string): Promise<number>;
  /**
   * Takes or renews the dispatcher lease for `owner` until `ttlMs` from now, if it is free, expired or
   * already `owner`'s: true when `owner` holds it. Several command services elect one dispatcher this way.
   */
  lease(owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Gives the lease up if `owner` holds it (a dispatcher stopping gracefully), so that another command service, or
   * this one restarted, takes it at its next try instead of waiting for it to expire; does nothing otherwise.
   */
  releaseLease(owner: string): Promise<void>;
  close(): Promise<void>;
}

/** One delivery as the transport sends it: a POST of `body` (JSON) with `headers` to `url`. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds before the attempt is abandoned as `timeout`. */
  timeoutMs: number;
}

/** The receiver's status, or why none came (a short reason: `timeout`, `connection refused`, `address not allowed`). */
export type WebhookResponse = { status: number } | { error: string };

/** Sends webhook requests over HTTP (the adapter refuses private targets unless the operator allows them). */
export interface WebhookTransport {
  /** Never throws: every failure is a `{ error }`. The response body is read and thrown away. */
  send(request: WebhookRequest): Promise<WebhookResponse>;
  close(): Promise<void>;
}
