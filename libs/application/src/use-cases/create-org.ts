import { Type, type Static } from '@sinclair/typebox';
import { decideCreateOrg } from '@arbor/domain';
import { IdInput, commandType, defineUseCase } from './use-case';

/** CreateOrg: a root (`parentId: null`) or a child; name, description and metadata are the decider's to check. */
export const CreateOrgInput = Type.Object({
  type: commandType('CreateOrg'),
  orgId: IdInput,
  parentId: Type.Union([IdInput, Type.Null()]),
  name: Type.Unknown(),
  description: Type.Optional(Type.Unknown()),
  metadata: Type.Optional(Type.Unknown()),
});
export type CreateOrgInput = Static<typeof CreateOrgInput>;

/** A root needs `orgs:write` on the platform; a child needs it on its parent (contract section 4). */
export const createOrg = defineUseCase({
  type: 'CreateOrg',
  input: CreateOrgInput,
  authorize: async (policy, principal, c) => {
    if (c.parentId === null) policy.requirePlatform(principal, 'orgs:write');
    else await policy.requireOnOrg(principal, 'orgs:write', c.parentId);
  },
  decide: (state, c) => ({ events: decideCreateOrg(state.orgs, c) }),
});
