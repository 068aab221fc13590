import { Type, type Static } from '@sinclair/typebox';
import { decideReplaceOrg } from '@arbor/domain';
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

/** `orgs:write` on the organization, and the right to move it where it goes (AccessPolicy.requireMayMove: root moves). */
export const replaceOrg = defineUseCase({
  type: 'ReplaceOrg',
  input: ReplaceOrgInput,
  authorize: async (policy, principal, c) => {
    const org = await policy.requireOnOrg(principal, 'orgs:write', c.orgId);
    await policy.requireMayMove(principal, org, c.parentId);
  },
  decide: (state, c) => ({ events: decideReplaceOrg(state.orgs, c) }),
});
