import { publicEventEnvelope, type StoredEvent } from '@arbor/domain';
import type { WebhookAttempt, WebhookSubscriptionView, WebhookTransport } from '../ports/webhooks';
import { standardWebhookHeaders } from './webhook-signature';

/*
 * One delivery attempt and the pacing of retries (contract section 10, "Deliveries"), apart from the dispatcher's
 * bookkeeping (webhook-dispatcher.ts) so that each reads on its own.
 */

/** How deliveries are paced. Every duration is in milliseconds. */
export interface WebhookDispatchOptions {
  /** The first retry's delay; each further failure doubles it (±20 % jitter) up to `retryMaxMs`. Default 5,000. */
  retryBaseMs: number;
  /** The longest delay between two attempts. Default 3,600,000 (an hour). */
  retryMaxMs: number;
  /** Failed attempts in a row after which the subscription is switched off. Default 20 (about 11 hours). */
  maxFailures: number;
  /** How long one attempt may take. Default 10,000. */
  timeoutMs: number;
  /** How often the log is looked at without a wake-up (writes of other processes, retries coming due). Default 1,000. */
  pollMs: number;
  /** How long the dispatcher lease lasts unless renewed (a dead dispatcher's successor waits this long). Default 30,000. */
  leaseMs: number;
}

/** The defaults of `WebhookDispatchOptions`. */
export const DEFAULT_WEBHOOK_DISPATCH: WebhookDispatchOptions = {
  retryBaseMs: 5_000,
  retryMaxMs: 3_600_000,
  maxFailures: 20,
  timeoutMs: 10_000,
  pollMs: 1_000,
  leaseMs: 30_000,
};

/**
 * One attempt at one event (Standard Webhooks: `webhook-id` is the event's id, signed with every secret in
 * `secrets`), sent to the subscription's URL, and described as the delivery log keeps it. `sentAt` is the
 * dispatcher's clock (ms since the epoch, the `webhook-timestamp`); `attempt` counts from 1 per event; the
 * transport never throws (an answer or an error string). `durationMs` is measured with `performance.now()`.
 */
export async function attemptDelivery(
  transport: WebhookTransport,
  sub: WebhookSubscriptionView,
  event: StoredEvent,
  at: { attempt: number; secrets: string[]; sentAt: number; timeoutMs: number },
): Promise<Omit<WebhookAttempt, 'attemptId'>> {
  const body = JSON.stringify(publicEventEnvelope(event));
  const headers = {
    ...standardWebhookHeaders(at.secrets, event.id, new Date(at.sentAt), body),
    'content-type': 'application/json',
    'user-agent': 'Arbor-Webhooks/1',
  };
  const started = performance.now();
  const response = await transport.send({ url: sub.url, headers, body, timeoutMs: at.timeoutMs });
  const delivered = 'status' in response && response.status >= 200 && response.status < 300;
  return {
    subscriptionId: sub.subscriptionId,
    eventId: event.id,
    eventType: event.type,
    position: event.position,
    attempt: at.attempt,
    attemptedAt: new Date(at.sentAt).toISOString(),
    outcome: delivered ? 'delivered' : 'failed',
    httpStatus: 'status' in response ? response.status : null,
    error: delivered ? null : 'status' in response ? `HTTP ${response.status}` : response.error,
    durationMs: performance.now() - started,
  };
}

/**
 * The wait before the next attempt after `failures` failed ones in a row (ms): `retryBaseMs · 2^(failures − 1)`,
 * ±20 % so that retries of many receivers spread out, then at most `retryMaxMs` (the cap after the jitter: the
 * contract's "never more than an hour apart" holds for every retry).
 */
export function retryDelay(
  failures: number,
  options: Pick<WebhookDispatchOptions, 'retryBaseMs' | 'retryMaxMs'>,
): number {
  const { retryBaseMs, retryMaxMs } = options;
  const delay = retryBaseMs * 2 ** Math.min(failures - 1, 30);
  return Math.min(retryMaxMs, Math.round(delay * (0.8 + Math.random() * 0.4)));
}
