import type { ReadModels, WebhookSubscriptionView } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/** What every adapter's webhook subscriptions (ReadModels.webhooks) must do, as Jest tests. */
export function webhookQueriesConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let log: Log;

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    await rm.apply(ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)));
  });
  afterEach(() => harness.release(rm));

  const definition = { url: 'https://hooks.example.com/a', eventTypes: ['OrgCreated'], description: 'About a' };

  it('projects a subscription through every change of it, until it is deleted', async () => {
    const created = log.webhook('WebhookSubscriptionCreated', 'whk_1', 'a', definition);
    await rm.apply([created]);
    const first: WebhookSubscriptionView = {
      subscriptionId: 'whk_1',
      orgId: 'a',
      ...definition,
      enabled: true,
      disabledReason: null,
      createdPosition: created.position,
      replay: null,
      createdAt: created.occurredAt,
      updatedAt: created.occurredAt,
      version: 1,
    };
    expect(await rm.webhooks.get('whk_1')).toEqual(first);
    const updated = log.webhook('WebhookSubscriptionUpdated', 'whk_1', 'a', {
      url: 'http://hooks.example.com/b',
      eventTypes: [],
      description: '',
    });
    const disabled = log.webhook('WebhookSubscriptionDisabled', 'whk_1', 'a', { reason: 'HTTP 500' });
    await rm.apply([updated, disabled]);
    expect(await rm.webhooks.get('whk_1')).toEqual({
      ...first,
      url: 'http://hooks.example.com/b',
      eventTypes: [],
      description: '',
      enabled: false,
      disabledReason: 'HTTP 500',
      updatedAt: disabled.occurredAt,
      version: 3,
    });
    const rotated = log.webhook('WebhookSecretRotated', 'whk_1', 'a', { previousSecretExpiresAt: log.nextAt() });
    const replay = log.webhook('WebhookReplayRequested', 'whk_1', 'a', { fromPosition: 2 });
    const enabled = log.webhook('WebhookSubscriptionEnabled', 'whk_1', 'a');
    await rm.apply([rotated, replay, enabled]);
    expect(await rm.webhooks.get('whk_1')).toMatchObject({
      enabled: true,
      disabledReason: null,
      replay: { fromPosition: 2, requestedPosition: replay.position },
      createdPosition: created.position,
      version: 6,
    });
    const again = log.webhook('WebhookReplayRequested', 'whk_1', 'a', { fromPosition: 1 });
    await rm.apply([again]);
    expect((await rm.webhooks.get('whk_1'))?.replay).toEqual({ fromPosition: 1, requestedPosition: again.position });
    await rm.apply([log.webhook('WebhookSubscriptionDeleted', 'whk_1', 'a')]);
    expect(await rm.webhooks.get('whk_1')).toBeUndefined();
    expect(await rm.webhooks.listAll()).toEqual([]);
  });

  it("lists every subscription in id order, and one organization's own in pages", async () => {
    await rm.apply([
      log.webhook('WebhookSubscriptionCreated', 'whk_3', 'a', definition),
      log.webhook('WebhookSubscriptionCreated', 'whk_1', 'a', definition),
      log.webhook('WebhookSubscriptionCreated', 'whk_2', 'a1', definition),
      log.webhook('WebhookSubscriptionCreated', 'whk_4', 'a', definition),
      log.webhook('WebhookSubscriptionDisabled', 'whk_4', 'a', { reason: 'off' }),
    ]);
    expect((await rm.webhooks.listAll()).map((w) => [w.subscriptionId, w.enabled])).toEqual([
      ['whk_1', true],
      ['whk_2', true],
      ['whk_3', true],
      ['whk_4', false],
    ]);
    const first = await rm.webhooks.listByOrg('a', { limit: 2 });
    expect(first.items.map((w) => w.subscriptionId)).toEqual(['whk_1', 'whk_3']);
    const rest = await rm.webhooks.listByOrg('a', { limit: 2, cursor: first.nextCursor! });
    expect(rest.items.map((w) => w.subscriptionId)).toEqual(['whk_4']);
    expect(rest.nextCursor).toBeNull();
    expect((await rm.webhooks.listByOrg('b', { limit: 10 })).items).toEqual([]);
  });

  it('applies an event twice as once, and drops a deleted organization’s subscriptions as a backstop', async () => {
    const created = log.webhook('WebhookSubscriptionCreated', 'whk_1', 'a11', definition);
    const disabled = log.webhook('WebhookSubscriptionDisabled', 'whk_1', 'a11', { reason: 'off' });
    await rm.apply([created, disabled]);
    await rm.apply([created, disabled]);
    expect(await rm.webhooks.get('whk_1')).toMatchObject({ enabled: false, version: 2 });
    // A change of a subscription without a row (its creation not projected) changes nothing.
    await rm.apply([log.webhook('WebhookSubscriptionEnabled', 'whk_9', 'a11')]);
    expect(await rm.webhooks.get('whk_9')).toBeUndefined();
    await rm.apply([log.deleted('a11', 'a1')]);
    expect(await rm.webhooks.get('whk_1')).toBeUndefined();
  });

  it('empties on reset', async () => {
    await rm.apply([log.webhook('WebhookSubscriptionCreated', 'whk_1', 'a', definition)]);
    await rm.reset();
    expect(await rm.webhooks.listAll()).toEqual([]);
  });
}
