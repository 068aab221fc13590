import type { CommandService } from '../commands/command-service';
import type { Logger } from '../logger';
import type { EventStore } from '../ports/event-store';
import type {
  WebhookDeliveryStore,
  WebhookSecrets,
  WebhookSubscriptionQueries,
  WebhookTransport,
} from '../ports/webhooks';
import { WebhookDispatcher, type WebhookDispatchOptions } from './webhook-dispatcher';

/** How long the delivery log keeps an attempt, in days (then dropped hourly). */
export const WEBHOOK_DELIVERY_LOG_DAYS = 30;

/**
 * Starts the webhook dispatcher of a process that owns writes (the embedded process, each command service): it
 * reads the log and the subscriptions' read model, signs with the vault's secrets, and switches a subscription
 * off through the command service as the system (DisableWebhookSubscription), so that the switch is an event like
 * every other write. Drops delivery-log rows older than WEBHOOK_DELIVERY_LOG_DAYS, and the cursors of deleted
 * subscriptions (dropDeletedCursors), at start and hourly.
 * `wake()` after a commit; `stop()` before closing the stores it reads (it waits for an attempt under way).
 */
export function startWebhookDispatch(parts: {
  store: EventStore;
  /** The read models' checkpoint (WebhookDispatcherDeps.projectedPosition). */
  projectedPosition: () => Promise<number>;
  subscriptions: WebhookSubscriptionQueries;
  secrets: WebhookSecrets;
  deliveries: WebhookDeliveryStore;
  transport: WebhookTransport;
  commands: CommandService;
  log: Logger;
  /** This process's name for the dispatcher lease: unique among the processes sharing the stores. */
  owner: string;
  options?: Partial<WebhookDispatchOptions>;
}): { wake(): void; stop(): Promise<void> } {
  const { commands, deliveries, log } = parts;
  const dispatcher = new WebhookDispatcher({
    events: parts.store,
    projectedPosition: parts.projectedPosition,
    subscriptions: parts.subscriptions,
    secrets: parts.secrets,
    deliveries,
    transport: parts.transport,
    log,
    owner: parts.owner,
    options: parts.options,
    disable: async (subscriptionId, reason) => {
      await commands.execute({ type: 'DisableWebhookSubscription', subscriptionId, reason }, { principal: 'system' });
    },
  });
  const purge = () => {
    void deliveries
      .purgeAttempts(new Date(Date.now() - WEBHOOK_DELIVERY_LOG_DAYS * 86_400_000).toISOString())
      .catch((e: unknown) => log.warn('webhook delivery log purge failed', { error: String(e) }));
    void dropDeletedCursors(deliveries, parts.subscriptions, parts.projectedPosition).catch((e: unknown) =>
      log.warn('webhook cursor sweep failed', { error: String(e) }),
    );
  };
  purge();
  const purgeTimer = setInterval(purge, 3_600_000);
  purgeTimer.unref();
  dispatcher.start();
  return {
    wake: () => dispatcher.wake(),
    stop: async () => {
      clearInterval(purgeTimer);
      await dispatcher.stop();
    },
  };
}

/**
 * Drops the cursors of subscriptions deleted since (one row each, kept by nothing else). A cursor at position P
 * belongs to a subscription created at or before P, so once the read models hold P (their checkpoint, read before
 * the list and again after it: a rebuild may begin meanwhile, and it re-lists the subscriptions from nothing), a
 * cursor missing from the list belongs to a deleted subscription; one further along is kept for a later sweep.
 */
export async function dropDeletedCursors(
  deliveries: Pick<WebhookDeliveryStore, 'cursorIds' | 'cursor' | 'dropCursor'>,
  subscriptions: Pick<WebhookSubscriptionQueries, 'listAll'>,
  projectedPosition: () => Promise<number>,
): Promise<number> {
  const withCursor = await deliveries.cursorIds();
  if (withCursor.length === 0) return 0;
  const before = await projectedPosition();
  const live = new Set((await subscriptions.listAll()).map((s) => s.subscriptionId));
  const projected = Math.min(before, await projectedPosition());
  let dropped = 0;
  for (const id of withCursor) {
    if (live.has(id)) continue;
    const cursor = await deliveries.cursor(id);
    if (cursor === undefined || cursor.position > projected) continue;
    await deliveries.dropCursor(id);
    dropped++;
  }
  return dropped;
}
