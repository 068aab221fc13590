import { Type, type Static } from '@sinclair/typebox';
import { IamError, changedRoles, decideChangeClientRoles } from '@arbor/domain';
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
 * `clients:write` on the credential's organization (not seeing it: 404, as for revocation), and for every
 * role granted or taken away the caller holds every permission it grants there (owner-level roles:
 * `orgs:delete` too): nobody changes a grant of what they do not hold.
 */
export const changeClientRoles = defineUseCase({
  type: 'ChangeClientRoles',
  input: ChangeClientRolesInput,
  authorize: async (policy, principal, c) => {
    const hidden = new IamError('IAM_ERR_NOT_FOUND', `Client credential ${c.clientCredentialId} does not exist.`);
    const orgId = await policy.facts.clientOrg(c.clientCredentialId);
    const current = await policy.facts.clientRoles(c.clientCredentialId);
    if (orgId === undefined || current === undefined) throw hidden;
    await policy.requireOnOrg(principal, 'clients:write', orgId).catch((e: unknown) => {
      throw e instanceof IamError && e.code === 'IAM_ERR_NOT_FOUND' ? hidden : e;
    });
    await policy.requireMayGrantRoles(principal, orgId, changedRoles(current, rolesIn(c.roles)));
  },
  decide: (state, c) => ({ events: decideChangeClientRoles(state, c) }),
});
