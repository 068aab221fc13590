import { Type, type Static } from '@sinclair/typebox';
import { decideDeleteOrg } from '@arbor/domain';
import { withRoles } from './application-permissions';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/** DeleteOrg: `recursive` must be a boolean (a truthy string must not delete a subtree). */
export const DeleteOrgInput = Type.Object({
  type: commandType('DeleteOrg'),
  orgId: IdInput,
  recursive: Type.Boolean(),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type DeleteOrgInput = Static<typeof DeleteOrgInput>;

/**
 * `orgs:delete` on the organization; a root needs it on the platform too. The subtree's webhook subscriptions
 * end with it (WebhookSubscriptionDeleted, decideDeleteOrg), whoever may manage them: they cover nothing then.
 */
export const deleteOrg = defineUseCase({
  type: 'DeleteOrg',
  input: DeleteOrgInput,
  authorize: async (policy, principal, c) => {
    const org = await policy.requireOnOrg(principal, 'orgs:delete', c.orgId);
    if (org.parentId === null) policy.requirePlatform(principal, 'orgs:delete');
  },
  decide: (state, c) => ({
    events: decideDeleteOrg(state.orgs, c, state.memberships, withRoles(state).roles, state.webhooks),
  }),
});
