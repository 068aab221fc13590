import { Type, type Static } from '@sinclair/typebox';
import { IamError, decideRevokeClientCredential } from '@arbor/domain';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/** RevokeClientCredential: the credential stops authenticating; its secret hash goes once the revocation commits. */
export const RevokeClientCredentialInput = Type.Object({
  type: commandType('RevokeClientCredential'),
  clientCredentialId: IdInput,
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type RevokeClientCredentialInput = Static<typeof RevokeClientCredentialInput>;

/** `clients:write` on the credential's organization; not seeing the organization means not seeing the credential (404). */
export const revokeClientCredential = defineUseCase({
  type: 'RevokeClientCredential',
  input: RevokeClientCredentialInput,
  authorize: async (policy, principal, c) => {
    const hidden = new IamError('IAM_ERR_NOT_FOUND', `Client credential ${c.clientCredentialId} does not exist.`);
    const orgId = await policy.facts.clientOrg(c.clientCredentialId);
    if (orgId === undefined) throw hidden;
    await policy.requireOnOrg(principal, 'clients:write', orgId).catch((e: unknown) => {
      // Not seeing the organization means not seeing its clients either.
      throw e instanceof IamError && e.code === 'IAM_ERR_NOT_FOUND' ? hidden : e;
    });
  },
  decide: (state, c) => ({ events: decideRevokeClientCredential(state, c) }),
});
