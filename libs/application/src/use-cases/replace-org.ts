import { Type, type Static } from '@sinclair/typebox';
import {
  decideReplaceOrg,
  requireNamesFreeAfterMove,
  requireNoDanglingAfterMove,
  webhooksPausedByMove,
} from '@arbor/domain';
import { withRoles } from './application-permissions';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/** ReplaceOrg (PUT): every writable field; a new `parentId` moves the whole subtree. */
export const ReplaceOrgInput = Type.Object({
  type: commandType('ReplaceOrg'),
  orgId: IdInput,
  parentId: Type.Union([IdInput, Type.Null()]),
  name: Type.Unknown(),
  description: Type.Optional(Type.Unknown()),
  metadata: Type.Optional(Type.Unknown()),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type ReplaceOrgInput = Static<typeof ReplaceOrgInput>;

/**
 * `orgs:write` on the organization, and the right to move it where it goes (AccessPolicy.requireMayMove: root moves).
 * A move switches off the moved subtree's webhook subscriptions (webhooksPausedByMove).
 */
export const replaceOrg = defineUseCase({
  type: 'ReplaceOrg',
  input: ReplaceOrgInput,
  authorize: async (policy, principal, c) => {
    const org = await policy.requireOnOrg(principal, 'orgs:write', c.orgId);
    await policy.requireMayMove(principal, org, c.parentId);
  },
  decide: (state, c) => {
    const events = decideReplaceOrg(state.orgs, c);
    // A move must leave no grant of a role or permission defined outside the new ancestry (contract 4.1).
    // Nor bring an application permission name into a tree that defines it already.
    for (const e of events)
      if (e.type === 'OrgMoved') {
        requireNoDanglingAfterMove(withRoles(state), e.data.orgId, e.data.toParentId);
        requireNamesFreeAfterMove(withRoles(state), e.data.orgId, e.data.toParentId);
      }
    // And no webhook keeps delivering the moved subtree to a URL chosen where it was (contract section 10).
    const moved = events.find((e) => e.type === 'OrgMoved');
    if (moved?.type === 'OrgMoved')
      events.push(...webhooksPausedByMove(state.webhooks, state.orgs.subtreeIds(moved.data.orgId), moved.data));
    return { events };
  },
});
