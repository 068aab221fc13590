import type { Page, PageRequest, WebhookReadQueries, WebhookSubscriptionView } from '@arbor/application';
import type { ReadModelCollections, WebhookDoc } from './mongo-collections';
import { afterId, emptyPage, hasNul, pageLimit, toPage, type IdKeyset } from './mongo-page-cursor';

export const toWebhookView = (doc: WebhookDoc): WebhookSubscriptionView => ({
  subscriptionId: doc._id,
  orgId: doc.orgId,
  url: doc.url,
  eventTypes: doc.eventTypes,
  description: doc.description,
  enabled: doc.enabled,
  disabledReason: doc.disabledReason,
  createdPosition: doc.createdPosition,
  replay: doc.replay,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  version: doc.version,
});

/** The document of a subscription, without its `_id` (the subscription id), as `replaceOne` takes it. */
export const webhookDoc = (w: WebhookSubscriptionView): Omit<WebhookDoc, '_id'> => ({
  orgId: w.orgId,
  url: w.url,
  eventTypes: w.eventTypes,
  description: w.description,
  enabled: w.enabled,
  disabledReason: w.disabledReason,
  createdPosition: w.createdPosition,
  replay:
    w.replay === null ? null : { fromPosition: w.replay.fromPosition, requestedPosition: w.replay.requestedPosition },
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
  version: w.version,
});

/** Webhook subscriptions in the MongoDB read models (issue 14 item 6); their secrets are only the vault's. */
export class MongoWebhookQueries implements WebhookReadQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async get(subscriptionId: string): Promise<WebhookSubscriptionView | undefined> {
    if (hasNul(subscriptionId)) return undefined;
    const doc = await this.c.webhooks.findOne({ _id: subscriptionId });
    return doc === null ? undefined : toWebhookView(doc);
  }

  async listAll(): Promise<WebhookSubscriptionView[]> {
    return (await this.c.webhooks.find({}).sort({ _id: 1 }).toArray()).map(toWebhookView);
  }

  /** One organization's own subscriptions in id order, from `webhooks_org`. */
  async listByOrg(orgId: string, page: PageRequest): Promise<Page<WebhookSubscriptionView>> {
    if (hasNul(orgId)) return emptyPage();
    const limit = pageLimit(page);
    const docs = await this.c.webhooks
      .find({ orgId, _id: { $gt: afterId(page) } })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    return toPage(docs, limit, toWebhookView, (doc): IdKeyset => ({ i: doc._id }));
  }
}
