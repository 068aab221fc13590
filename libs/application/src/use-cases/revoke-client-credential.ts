import { Type, type Static } from '@sinclair/typebox';
import { decideRevokeClientCredential } from '@arbor/domain';
import { clientOrgForWrite } from './client-write-access';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/** RevokeClientCredential: the credential stops authenticating; its secret hash goes once the revocation commits. */
export const RevokeClientCredentialInput = Type.Object({
  type: commandType('RevokeClientCredential'),
  clientCredentialId: IdInput,
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type RevokeClientCredentialInput = Static<typeof RevokeClientCredentialInput>;

/** `clients:write` on the credential's organization; a caller who may not see the credential gets 404 (clientOrgForWrite). */
export const revokeClientCredential = defineUseCase({
  type: 'RevokeClientCredential',
  input: RevokeClientCredentialInput,
  authorize: async (policy, principal, c) => {
    await clientOrgForWrite(policy, principal, c.clientCredentialId);
  },
  decide: (state, c) => ({ events: decideRevokeClientCredential(state, c) }),
});
