import { Type, type Static } from '@sinclair/typebox';
import {
  IamError,
  decideCreateWebhookSubscription,
  decideDeleteWebhookSubscription,
  decideDisableWebhookSubscription,
  decideRequestWebhookReplay,
  decideRotateWebhookSecret,
  decideUpdateWebhookSubscription,
  type OrgNode,
} from '@arbor/domain';
import type { AccessPolicy } from '../auth/access-policy';
import type { Principal } from '../auth/principal';
import { actorOfCommand } from '../commands/command';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/**
 * The management of webhook subscriptions (issue 14 item 6, contract section 10). Who may: `events:read` on the
 * organization (AccessPolicy.requireEventsOn: a subscription is a standing read of its subtree's log); not seeing
 * the organization (or the subscription's) is a 404. The signing secrets go to the vault (`Decision.secrets`),
 * never into an event; the gateway mints them (`newWebhookSecret`) and carries them in the command.
 */

/** How long a rotated-out secret keeps signing: 24 hours (contract section 10). */
export const WEBHOOK_PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

/** A Standard Webhooks secret as `newWebhookSecret` makes it: `whsec_` and the base64 of 32 bytes. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

/** Refuses a secret of another shape, or one of too little variety to be random (a caller of the internal API). */
function checkWebhookSecret(secret: string): void {
  const body = secret.slice('whsec_'.length);
  if (!WEBHOOK_SECRET.test(secret) || new Set(body).size < 16)
    throw new IamError('IAM_ERR_VALIDATION', 'A webhook secret must be whsec_ and the base64 of 32 random bytes.', [
      { path: '/secret', message: 'must be whsec_ and the base64 of 32 random bytes' },
    ]);
}

/** The subscription's organization, with `events:read` there; 404 naming the subscription when it cannot be seen. */
async function requireOnWebhook(
  policy: AccessPolicy<OrgNode>,
  principal: Principal,
  subscriptionId: string,
): Promise<void> {
  const hidden = new IamError('IAM_ERR_NOT_FOUND', `Webhook subscription ${subscriptionId} does not exist.`);
  const orgId = await policy.facts.webhookOrg?.(subscriptionId);
  if (orgId === undefined) throw hidden;
  await policy.requireEventsOn(principal, orgId).catch((e: unknown) => {
    throw e instanceof IamError && e.code === 'IAM_ERR_NOT_FOUND' ? hidden : e;
  });
}

const Definition = {
  url: Type.Optional(Type.Unknown()),
  eventTypes: Type.Optional(Type.Unknown()),
  description: Type.Optional(Type.Unknown()),
};

export const CreateWebhookSubscriptionInput = Type.Object({
  type: commandType('CreateWebhookSubscription'),
  subscriptionId: IdInput,
  orgId: IdInput,
  ...Definition,
  url: Type.Unknown(),
  secret: Type.String(),
});
export type CreateWebhookSubscriptionInput = Static<typeof CreateWebhookSubscriptionInput>;

export const createWebhookSubscription = defineUseCase({
  type: 'CreateWebhookSubscription',
  input: CreateWebhookSubscriptionInput,
  authorize: async (policy, principal, c) => void (await policy.requireEventsOn(principal, c.orgId)),
  prepare: async (c) => {
    checkWebhookSecret(c.secret);
    return {};
  },
  decide: (state, c) => ({
    events: decideCreateWebhookSubscription(state, c),
    secrets: [
      { kind: 'webhookSecret', subscriptionId: c.subscriptionId, secret: c.secret, previousSecretExpiresAt: null },
    ],
  }),
});

export const UpdateWebhookSubscriptionInput = Type.Object({
  type: commandType('UpdateWebhookSubscription'),
  subscriptionId: IdInput,
  ...Definition,
  enabled: Type.Optional(Type.Boolean()),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type UpdateWebhookSubscriptionInput = Static<typeof UpdateWebhookSubscriptionInput>;

/** Absent fields stay; `enabled` false switches it off (reason `disabled by <actor>`), true on again. */
export const updateWebhookSubscription = defineUseCase({
  type: 'UpdateWebhookSubscription',
  input: UpdateWebhookSubscriptionInput,
  authorize: (policy, principal, c) => requireOnWebhook(policy, principal, c.subscriptionId),
  reconcile: async (_state, _c, prepared, env) => {
    const actor = actorOfCommand(env.principal);
    return { ...prepared, changedBy: `${actor.type} ${actor.id}` };
  },
  decide: (state, c, prepared) => ({
    events: decideUpdateWebhookSubscription(state, { ...c, changedBy: prepared.changedBy ?? 'system' }),
  }),
});

export const RotateWebhookSecretInput = Type.Object({
  type: commandType('RotateWebhookSecret'),
  subscriptionId: IdInput,
  secret: Type.String(),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type RotateWebhookSecretInput = Static<typeof RotateWebhookSecretInput>;

/** A new current secret; the one it replaces signs too for WEBHOOK_PREVIOUS_SECRET_TTL_MS. */
export const rotateWebhookSecret = defineUseCase({
  type: 'RotateWebhookSecret',
  input: RotateWebhookSecretInput,
  authorize: (policy, principal, c) => requireOnWebhook(policy, principal, c.subscriptionId),
  prepare: async (c) => {
    checkWebhookSecret(c.secret);
    return { previousSecretExpiresAt: new Date(Date.now() + WEBHOOK_PREVIOUS_SECRET_TTL_MS).toISOString() };
  },
  decide: (state, c, prepared) => {
    if (prepared.previousSecretExpiresAt === undefined) throw new Error('RotateWebhookSecret was not prepared');
    const events = decideRotateWebhookSecret(state, {
      ...c,
      previousSecretExpiresAt: prepared.previousSecretExpiresAt,
    });
    // The decided instant (later than the last rotation's) names the pending secret in the vault.
    const { previousSecretExpiresAt } = events[0].data as { previousSecretExpiresAt: string };
    return {
      events,
      secrets: [{ kind: 'webhookSecret', subscriptionId: c.subscriptionId, secret: c.secret, previousSecretExpiresAt }],
    };
  },
});

export const RequestWebhookReplayInput = Type.Object({
  type: commandType('RequestWebhookReplay'),
  subscriptionId: IdInput,
  fromPosition: Type.Integer(),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type RequestWebhookReplayInput = Static<typeof RequestWebhookReplayInput>;

export const requestWebhookReplay = defineUseCase({
  type: 'RequestWebhookReplay',
  input: RequestWebhookReplayInput,
  authorize: (policy, principal, c) => requireOnWebhook(policy, principal, c.subscriptionId),
  decide: (state, c) => ({ events: decideRequestWebhookReplay(state, c) }),
});

export const DeleteWebhookSubscriptionInput = Type.Object({
  type: commandType('DeleteWebhookSubscription'),
  subscriptionId: IdInput,
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type DeleteWebhookSubscriptionInput = Static<typeof DeleteWebhookSubscriptionInput>;

/** Its secrets go from the vault once the deletion is committed (CommandService.afterCommit). */
export const deleteWebhookSubscription = defineUseCase({
  type: 'DeleteWebhookSubscription',
  input: DeleteWebhookSubscriptionInput,
  authorize: (policy, principal, c) => requireOnWebhook(policy, principal, c.subscriptionId),
  decide: (state, c) => ({ events: decideDeleteWebhookSubscription(state, c) }),
});

export const DisableWebhookSubscriptionInput = Type.Object({
  type: commandType('DisableWebhookSubscription'),
  subscriptionId: IdInput,
  reason: Type.String(),
});
export type DisableWebhookSubscriptionInput = Static<typeof DisableWebhookSubscriptionInput>;

/**
 * The dispatcher switches off an endpoint that keeps failing: run as the system
 * (`commands.execute(cmd, {principal: 'system'})`, which skips `authorize`); refused (403) to every caller.
 */
export const disableWebhookSubscription = defineUseCase({
  type: 'DisableWebhookSubscription',
  input: DisableWebhookSubscriptionInput,
  authorize: async () => {
    throw new IamError('IAM_ERR_FORBIDDEN', 'Only the webhook dispatcher switches a subscription off this way.');
  },
  decide: (state, c) => ({ events: decideDisableWebhookSubscription(state, c) }),
});
