import { isKnownEvent, type StoredEvent } from './events';

/** A webhook subscription as the command side knows it (issue 14 item 6): what its deciders check. */
export interface WebhookState {
  subscriptionId: string;
  orgId: string;
  url: string;
  eventTypes: string[];
  description: string;
  enabled: boolean;
  /** The stream's version (`webhook-<subscriptionId>`): what If-Match compares. */
  version: number;
  /**
   * The `previousSecretExpiresAt` of its last committed WebhookSecretRotated (ISO 8601), which names that rotation's
   * secret in the vault (SecretVault.promoteWebhookSecret); absent before any (or in a snapshot older than this field).
   */
  lastRotation?: string;
}

/** Plain data: every live subscription. */
export interface WebhookIndexSnapshot {
  subscriptions: WebhookState[];
}

/**
 * The live webhook subscriptions, by id and by organization, folded from the `Webhook*` events. A deleted
 * subscription is forgotten (its stream's last version is the command model's to keep).
 */
export class WebhookIndex {
  private readonly byId = new Map<string, WebhookState>();
  private readonly byOrg = new Map<string, Set<string>>();
  /**
   * The log position of the last event folded, whatever its type (a replay may start at most there). Set from
   * the model's position when restored from a snapshot (`fromSnapshot`).
   */
  head = 0;

  get(subscriptionId: string): WebhookState | undefined {
    return this.byId.get(subscriptionId);
  }

  /** The ids of the subscriptions made on `orgId` itself (not below it), in creation order. */
  subscriptionsOf(orgId: string): string[] {
    return [...(this.byOrg.get(orgId) ?? [])];
  }

  /** Folds one event; events of other kinds change nothing. */
  apply(event: StoredEvent): void {
    if (event.position > this.head) this.head = event.position;
    if (!isKnownEvent(event)) return;
    const version = event.streamVersion;
    switch (event.type) {
      case 'WebhookSubscriptionCreated':
        return this.put({ ...event.data, eventTypes: [...event.data.eventTypes], enabled: true, version });
      case 'WebhookSubscriptionUpdated':
        return this.change(event.data.subscriptionId, {
          url: event.data.url,
          eventTypes: [...event.data.eventTypes],
          description: event.data.description,
          version,
        });
      case 'WebhookSubscriptionDisabled':
        return this.change(event.data.subscriptionId, { enabled: false, version });
      case 'WebhookSubscriptionEnabled':
        return this.change(event.data.subscriptionId, { enabled: true, version });
      case 'WebhookSecretRotated':
        return this.change(event.data.subscriptionId, { version, lastRotation: event.data.previousSecretExpiresAt });
      case 'WebhookReplayRequested':
        return this.change(event.data.subscriptionId, { version });
      case 'WebhookSubscriptionDeleted':
        return this.delete(event.data.subscriptionId);
      default:
        return;
    }
  }

  toSnapshot(): WebhookIndexSnapshot {
    return { subscriptions: [...this.byId.values()].map((s) => ({ ...s, eventTypes: [...s.eventTypes] })) };
  }

  /** An index holding `snapshot`'s subscriptions (none when absent), at log position `head`. */
  static fromSnapshot(snapshot: WebhookIndexSnapshot | undefined, head: number): WebhookIndex {
    const index = new WebhookIndex();
    index.head = head;
    for (const s of snapshot?.subscriptions ?? []) index.put({ ...s, eventTypes: [...s.eventTypes] });
    return index;
  }

  private put(state: WebhookState): void {
    this.delete(state.subscriptionId);
    this.byId.set(state.subscriptionId, state);
    let ids = this.byOrg.get(state.orgId);
    if (!ids) this.byOrg.set(state.orgId, (ids = new Set()));
    ids.add(state.subscriptionId);
  }

  private change(subscriptionId: string, change: Partial<WebhookState>): void {
    const current = this.byId.get(subscriptionId);
    if (current) this.byId.set(subscriptionId, { ...current, ...change });
  }

  private delete(subscriptionId: string): void {
    const current = this.byId.get(subscriptionId);
    if (!current) return;
    this.byId.delete(subscriptionId);
    const ids = this.byOrg.get(current.orgId);
    ids?.delete(subscriptionId);
    if (ids?.size === 0) this.byOrg.delete(current.orgId);
  }
}
