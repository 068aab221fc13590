import type { DomainEvent, StoredEvent } from './events';
import { IamError } from './iam-error';
import { MembershipIndex } from './membership-index';
import type { IdentityState } from './member-decisions';
import { decideCreateOrg, decideDeleteOrg } from './org-decisions';
import { OrgTree } from './org-tree';
import { UserDirectory } from './user-directory';
import {
  MAX_WEBHOOKS_PER_ORG,
  decideCreateWebhookSubscription,
  decideDeleteWebhookSubscription,
  decideDisableWebhookSubscription,
  decideRequestWebhookReplay,
  decideRotateWebhookSecret,
  decideUpdateWebhookSubscription,
} from './webhook-decisions';
import { WebhookIndex } from './webhook-index';

type State = IdentityState & { webhooks: WebhookIndex };
const ROOT = 'org_01root';
const CHILD = 'org_01child';
const W = 'whk_01first';
const URL = 'https://hooks.example.com/arbor';

/** Folds decided events into every part of the state, with positions and stream versions, as the command model does. */
function commit(state: State, events: DomainEvent[]): void {
  for (const e of events) {
    const position = state.webhooks.head + 1;
    const stored: StoredEvent = {
      id: `evt-${position}`,
      type: e.type,
      streamId: e.streamId,
      streamVersion: (versions.get(e.streamId) ?? 0) + 1,
      position,
      occurredAt: new Date().toISOString(),
      actor: { type: 'system', id: 'test' },
      data: e.data,
      orgPath: [],
    };
    versions.set(e.streamId, stored.streamVersion);
    state.orgs.apply(stored);
    state.memberships.apply(stored);
    state.webhooks.apply(stored);
  }
}
let versions: Map<string, number>;

function fresh(): State {
  versions = new Map();
  const state: State = {
    orgs: new OrgTree(),
    users: new UserDirectory(),
    memberships: new MembershipIndex(),
    webhooks: new WebhookIndex(),
  };
  commit(state, decideCreateOrg(state.orgs, { orgId: ROOT, name: 'Root', parentId: null }));
  commit(state, decideCreateOrg(state.orgs, { orgId: CHILD, name: 'Child', parentId: ROOT }));
  return state;
}

function refusal(fn: () => unknown): { code: string; paths: string[] } {
  try {
    fn();
  } catch (e) {
    if (e instanceof IamError) return { code: e.code, paths: (e.errors ?? []).map((f) => f.path) };
    throw e;
  }
  return { code: 'no error', paths: [] };
}

const create = (state: State, extra: Record<string, unknown> = {}, subscriptionId = W, orgId = ROOT) =>
  decideCreateWebhookSubscription(state, { subscriptionId, orgId, url: URL, ...extra });

describe('webhook subscription deciders', () => {
  it('create a subscription on an organization, with its filter and no secret in the event', () => {
    const state = fresh();
    const events = create(state, { eventTypes: ['OrgCreated'], description: '  Sync  ' });
    expect(events).toEqual([
      {
        type: 'WebhookSubscriptionCreated',
        streamId: `webhook-${W}`,
        data: { subscriptionId: W, orgId: ROOT, url: URL, eventTypes: ['OrgCreated'], description: 'Sync' },
      },
    ]);
    expect(refusal(() => create(state, {}, W, 'org_01nowhere')).code).toBe('IAM_ERR_NOT_FOUND');
  });

  it('refuse what is not a webhook target, an unknown or repeated event type, an overlong description', () => {
    const state = fresh();
    for (const url of [
      '/relative',
      'ftp://a.example/x',
      'https://u:p@a.example/x',
      'https://u@a.example/',
      'https://a.example/#f',
      42,
    ])
      expect(refusal(() => create(state, { url }))).toEqual({ code: 'IAM_ERR_VALIDATION', paths: ['/url'] });
    expect(refusal(() => create(state, { url: `https://a.example/${'x'.repeat(2048)}` })).paths).toEqual(['/url']);
    expect(refusal(() => create(state, { eventTypes: ['OrgCreated', 'Nope', 'OrgCreated'] })).paths).toEqual([
      '/eventTypes/1',
      '/eventTypes/2',
    ]);
    expect(refusal(() => create(state, { eventTypes: 'OrgCreated' })).paths).toEqual(['/eventTypes']);
    expect(refusal(() => create(state, { description: 'x'.repeat(501) })).paths).toEqual(['/description']);
    expect(create(state, { url: 'http://hooks.example.com:8080/x?y=1' })).toHaveLength(1);
  });

  it(`allow ${MAX_WEBHOOKS_PER_ORG} subscriptions per organization`, () => {
    const state = fresh();
    for (let i = 0; i < MAX_WEBHOOKS_PER_ORG; i++) commit(state, create(state, {}, `whk_01n${i}`));
    expect(refusal(() => create(state, {}, 'whk_01over')).code).toBe('IAM_ERR_WEBHOOK_LIMIT');
    expect(create(state, {}, 'whk_01over', CHILD)).toHaveLength(1);
  });

  it('update: only what changed, then switch off with who did it, and on again', () => {
    const state = fresh();
    commit(state, create(state));
    const update = (extra: Record<string, unknown>) =>
      decideUpdateWebhookSubscription(state, { subscriptionId: W, changedBy: 'user usr_1', ...extra });
    expect(update({ url: URL, eventTypes: [] })).toEqual([]);
    expect(update({ description: 'New', enabled: false }).map((e) => [e.type, e.data])).toEqual([
      ['WebhookSubscriptionUpdated', { subscriptionId: W, orgId: ROOT, url: URL, eventTypes: [], description: 'New' }],
      ['WebhookSubscriptionDisabled', { subscriptionId: W, orgId: ROOT, reason: 'disabled by user usr_1' }],
    ]);
    commit(state, update({ enabled: false }));
    expect(update({ enabled: false })).toEqual([]);
    expect(update({ enabled: true }).map((e) => e.type)).toEqual(['WebhookSubscriptionEnabled']);
    expect(refusal(() => update({ url: 'nope' })).paths).toEqual(['/url']);
    expect(refusal(() => update({ enabled: true, expectedVersion: 1 })).code).toBe('IAM_ERR_PRECONDITION_FAILED');
    expect(update({ enabled: true, expectedVersion: 2 })).toHaveLength(1);
    expect(
      refusal(() => decideUpdateWebhookSubscription(state, { subscriptionId: 'whk_01x', changedBy: 'x' })).code,
    ).toBe('IAM_ERR_NOT_FOUND');
  });

  it("the dispatcher's disable records its reason, once", () => {
    const state = fresh();
    commit(state, create(state));
    const events = decideDisableWebhookSubscription(state, { subscriptionId: W, reason: ' HTTP 500 (10 failures) ' });
    expect(events[0].data).toEqual({ subscriptionId: W, orgId: ROOT, reason: 'HTTP 500 (10 failures)' });
    commit(state, events);
    expect(decideDisableWebhookSubscription(state, { subscriptionId: W, reason: 'again' })).toEqual([]);
    expect(refusal(() => decideDisableWebhookSubscription(state, { subscriptionId: W, reason: ' ' })).paths).toEqual([
      '/reason',
    ]);
  });

  it("rotate and replay: the replay's position lies within the log", () => {
    const state = fresh();
    commit(state, create(state));
    const head = state.webhooks.head;
    expect(
      decideRotateWebhookSecret(state, { subscriptionId: W, previousSecretExpiresAt: '2030-01-01T00:00:00.000Z' })[0]
        .data,
    ).toEqual({ subscriptionId: W, orgId: ROOT, previousSecretExpiresAt: '2030-01-01T00:00:00.000Z' });
    expect(decideRequestWebhookReplay(state, { subscriptionId: W, fromPosition: head })[0].data).toEqual({
      subscriptionId: W,
      orgId: ROOT,
      fromPosition: head,
    });
    for (const fromPosition of [0, head + 1, 1.5])
      expect(refusal(() => decideRequestWebhookReplay(state, { subscriptionId: W, fromPosition })).paths).toEqual([
        '/fromPosition',
      ]);
  });

  it('names each rotation by an instant later than the last one, so the vault never confuses two', () => {
    const state = fresh();
    commit(state, create(state));
    const rotate = (at: string) => {
      const events = decideRotateWebhookSecret(state, { subscriptionId: W, previousSecretExpiresAt: at });
      commit(state, events);
      return (events[0].data as { previousSecretExpiresAt: string }).previousSecretExpiresAt;
    };
    expect(rotate('2030-01-01T00:00:00.000Z')).toBe('2030-01-01T00:00:00.000Z');
    expect(state.webhooks.get(W)?.lastRotation).toBe('2030-01-01T00:00:00.000Z');
    // The same millisecond, or a clock gone back: 1 ms after the last one.
    expect(rotate('2030-01-01T00:00:00.000Z')).toBe('2030-01-01T00:00:00.001Z');
    expect(rotate('2029-12-31T00:00:00.000Z')).toBe('2030-01-01T00:00:00.002Z');
    expect(rotate('2030-02-01T00:00:00.000Z')).toBe('2030-02-01T00:00:00.000Z');
  });

  it('delete ends a subscription; deleting an organization ends those of its whole subtree before it', () => {
    const state = fresh();
    commit(state, create(state));
    commit(state, create(state, {}, 'whk_01child', CHILD));
    expect(decideDeleteWebhookSubscription(state, { subscriptionId: W }).map((e) => e.type)).toEqual([
      'WebhookSubscriptionDeleted',
    ]);
    const events = decideDeleteOrg(
      state.orgs,
      { orgId: ROOT, recursive: true },
      state.memberships,
      undefined,
      state.webhooks,
    );
    expect(
      events.map((e) => {
        const data = e.data as { subscriptionId?: string; orgId: string };
        return [e.type, data.subscriptionId ?? data.orgId];
      }),
    ).toEqual([
      ['WebhookSubscriptionDeleted', 'whk_01child'],
      ['OrgDeleted', CHILD],
      ['WebhookSubscriptionDeleted', W],
      ['OrgDeleted', ROOT],
    ]);
    commit(state, events);
    expect(state.webhooks.get(W)).toBeUndefined();
    expect(state.webhooks.subscriptionsOf(ROOT)).toEqual([]);
  });

  it('the index survives a snapshot, a disabled and rotated subscription as it is', () => {
    const state = fresh();
    commit(state, create(state));
    commit(
      state,
      decideUpdateWebhookSubscription(state, { subscriptionId: W, changedBy: 'user usr_1', enabled: false }),
    );
    commit(
      state,
      decideRotateWebhookSecret(state, { subscriptionId: W, previousSecretExpiresAt: '2030-01-01T00:00:00.000Z' }),
    );
    expect(state.webhooks.get(W)).toMatchObject({
      enabled: false,
      lastRotation: '2030-01-01T00:00:00.000Z',
      version: 3,
    });
    const copy = WebhookIndex.fromSnapshot(
      JSON.parse(JSON.stringify(state.webhooks.toSnapshot())),
      state.webhooks.head,
    );
    expect(copy.get(W)).toEqual(state.webhooks.get(W));
    expect(copy.subscriptionsOf(ROOT)).toEqual([W]);
    expect(copy.head).toBe(state.webhooks.head);
  });
});
