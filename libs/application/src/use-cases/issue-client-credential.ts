import { Type, type Static } from '@sinclair/typebox';
import { IamError, decideIssueClientCredential, newId } from '@arbor/domain';
import { MIN_CLIENT_SECRET_SYMBOLS, isPlausibleClientSecret } from '../commands/command-preparation';
import { IdInput, commandType, defineUseCase, rolesIn } from './use-case';

/**
 * IssueClientCredential (RFC 6749 section 2.3.1 client credentials for an organization). The command service
 * mints the `client_id` itself; `secret` must be 256-bit random (ClientSecretHasher.newSecret).
 */
export const IssueClientCredentialInput = Type.Object({
  type: commandType('IssueClientCredential'),
  clientCredentialId: IdInput,
  orgId: IdInput,
  name: Type.Unknown(),
  scopes: Type.Unknown(),
  /** Role ids to hold on `orgId` (issue 13); optional, none by default. */
  roles: Type.Optional(Type.Unknown()),
  secret: Type.String(),
});
export type IssueClientCredentialInput = Static<typeof IssueClientCredentialInput>;

/**
 * `clients:write` on the organization, and the caller holds every scope it grants there and below (a client's
 * scopes reach its subtree) and every permission its roles grant as far as each role reaches (owner-level
 * roles: `orgs:delete` too).
 */
export const issueClientCredential = defineUseCase({
  type: 'IssueClientCredential',
  input: IssueClientCredentialInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'clients:write', c.orgId);
    // A client's scopes reach its organization's whole subtree: the caller must hold them that far.
    await policy.requireHoldsAll(principal, c.orgId, Array.isArray(c.scopes) ? c.scopes.map(String) : [], 'subtree');
    await policy.requireMayGrantRoles(principal, c.orgId, rolesIn(c.roles));
  },
  prepare: async (c, deps) => {
    // The secret travels from the gateway: whatever sent it, nothing weaker than what newSecret makes is stored.
    if (!isPlausibleClientSecret(c.secret))
      throw new IamError(
        'IAM_ERR_VALIDATION',
        `A client secret must be 256-bit random, base64url (43 or more characters, at least ${MIN_CLIENT_SECRET_SYMBOLS} distinct).`,
      );
    return { secretHash: await deps.secrets.hash(c.secret), clientId: newId('cli') };
  },
  decide: (state, c, prepared) => {
    const { secretHash, clientId } = prepared;
    if (secretHash === undefined || clientId === undefined) throw new Error('IssueClientCredential was not prepared');
    return {
      events: decideIssueClientCredential(state, { ...c, clientId }),
      secrets: [{ kind: 'clientSecretHash', clientCredentialId: c.clientCredentialId, hash: secretHash }],
    };
  },
});
