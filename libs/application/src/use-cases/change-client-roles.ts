import { Type, type Static } from '@sinclair/typebox';
import { IamError, changedRoles, decideChangeClientRoles } from '@arbor/domain';
import { clientOrgForWrite } from './client-write-access';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase, rolesIn } from './use-case';

/**
 * ChangeClientRoles (issue 13): replaces the roles a client credential holds on its organization
 * (`PATCH /api/v1/oauth2/client-credentials/{id}` with `{roles}`). Records `ClientCredentialRolesChanged`;
 * nothing when the list is unchanged.
 */
export const ChangeClientRolesInput = Type.Object({
  type: commandType('ChangeClientRoles'),
  clientCredentialId: IdInput,
  roles: Type.Unknown(),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type ChangeClientRolesInput = Static<typeof ChangeClientRolesInput>;

/**
 * `clients:write` on the credential's organization (not seeing it: 404, clientOrgForWrite), and for every
 * role granted or taken away the caller holds every permission it grants there (owner-level roles:
 * `orgs:delete` too): nobody changes a grant of what they do not hold.
 */
export const changeClientRoles = defineUseCase({
  type: 'ChangeClientRoles',
  input: ChangeClientRolesInput,
  authorize: async (policy, principal, c) => {
    const orgId = await clientOrgForWrite(policy, principal, c.clientCredentialId);
    const current = await policy.facts.clientRoles(c.clientCredentialId);
    if (current === undefined)
      throw new IamError('IAM_ERR_NOT_FOUND', `Client credential ${c.clientCredentialId} does not exist.`);
    await policy.requireMayGrantRoles(principal, orgId, changedRoles(current, rolesIn(c.roles)));
  },
  decide: (state, c) => ({ events: decideChangeClientRoles(state, c) }),
});
