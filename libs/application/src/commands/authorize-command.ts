import { IamError, changedRoles, type OrgNode, type Role } from '@arbor/domain';
import type { AccessPolicy } from '../auth/access-policy';
import type { Principal } from '../auth/principal';
import type { CommandOf, CommandType } from './command';

/** Who a command runs for: a caller's principal, or the system itself (in-process only: the bootstrap). */
export type CommandPrincipal = Principal | 'system';

type Authorize<K extends CommandType> = (policy: AccessPolicy<OrgNode>, principal: Principal, command: CommandOf<K>) => Promise<void>;

/** Role ids as far as the policy needs them; anything malformed or unknown is left to the decider's validation (400). */
const rolesIn = (roles: unknown): Role[] => (Array.isArray(roles) ? roles.filter((r): r is Role => typeof r === 'string') : []);

/** The roles a change grants or takes away: the policy's owner rule (requireMayGrant) looks at those alone. */
const ownerChange = (before: readonly Role[], after: readonly Role[]): Role[] => changedRoles(before, after);

/**
 * What each command requires of its caller (contract section 4), in one registry the compiler checks
 * against the command union: a new command type does not build until it says who may run it. The command
 * service asks it inside the write transaction, against the command model, for every transport (the
 * embedded routes and the distributed internal API alike). Throws IamError: IAM_ERR_NOT_FOUND where the
 * caller may not see the resource, IAM_ERR_FORBIDDEN where they may see it but not do this.
 */
export const COMMAND_AUTHORIZATION: { [K in CommandType]: Authorize<K> } = {
  CreateOrg: async (policy, principal, c) => {
    if (c.parentId === null) policy.requirePlatform(principal, 'orgs:write');
    else await policy.requireOnOrg(principal, 'orgs:write', c.parentId);
  },
  ReplaceOrg: async (policy, principal, c) => {
    const org = await policy.requireOnOrg(principal, 'orgs:write', c.orgId);
    await policy.requireMayMove(principal, org, c.parentId);
  },
  DeleteOrg: async (policy, principal, c) => {
    const org = await policy.requireOnOrg(principal, 'orgs:delete', c.orgId);
    if (org.parentId === null) policy.requirePlatform(principal, 'orgs:delete');
  },
  BootstrapPlatformAdmin: async () => {
    throw new IamError('IAM_ERR_FORBIDDEN', 'Only the system creates the platform admin.');
  },
  AddUserToOrg: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'users:write', c.orgId);
    await policy.requireMayGrant(principal, c.orgId, rolesIn(c.roles));
    // An existing user is named by id only by those who can already see them (by email, see the decider).
    if (c.existingUserId !== undefined) await policy.requireMaySeeUser(principal, c.existingUserId);
  },
  UpdateOrgUser: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'users:write', c.orgId);
    const current = await policy.facts.directRoles(c.orgId, c.userId);
    // A pending membership is nobody's to see but its account's and platform admins'.
    const hidden = (await policy.facts.isPendingMember(c.orgId, c.userId)) && !policy.isPlatformAdmin(principal);
    if (!current || hidden) throw new IamError('IAM_ERR_NOT_FOUND', `User ${c.userId} is not a direct member of ${c.orgId}.`);
    if (c.roles !== undefined) await policy.requireMayGrant(principal, c.orgId, ownerChange(current, rolesIn(c.roles)));
    if (c.name !== undefined) await policy.requireMayEditProfile(principal, c.userId);
  },
  RemoveUserFromOrg: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'users:write', c.orgId);
    const current = await policy.facts.directRoles(c.orgId, c.userId);
    if (!current) throw new IamError('IAM_ERR_NOT_FOUND', `User ${c.userId} is not a direct member of ${c.orgId}.`);
    await policy.requireMayGrant(principal, c.orgId, ownerChange(current, []));
  },
  ConfirmMembership: async (policy, principal) => policy.requirePlatform(principal, 'users:write'),
  UpdateUser: async (policy, principal, c) => {
    if (c.status !== undefined) policy.requirePlatform(principal, 'users:write');
    if (c.name !== undefined) await policy.requireMayEditProfile(principal, c.userId);
  },
  ChangeOwnPassword: async (_policy, principal, c) => {
    if (principal.type !== 'user') throw new IamError('IAM_ERR_NOT_FOUND', 'The caller is not a user.');
    if (principal.id !== c.userId) throw new IamError('IAM_ERR_FORBIDDEN', 'Users change only their own password this way.');
  },
  SetUserPassword: async (policy, principal, c) => {
    if (policy.isPlatformAdmin(principal)) return policy.requirePlatform(principal, 'users:write');
    // Whoever may not see the user learns nothing about them; whoever may, learns this is not theirs to do.
    await policy.requireMaySeeUser(principal, c.userId);
    throw new IamError('IAM_ERR_FORBIDDEN', "Only a platform admin sets another user's password.");
  },
  IssueClientCredential: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'clients:write', c.orgId);
    await policy.requireHoldsAll(principal, c.orgId, Array.isArray(c.scopes) ? c.scopes.map(String) : []);
  },
  RevokeClientCredential: async (policy, principal, c) => {
    const hidden = new IamError('IAM_ERR_NOT_FOUND', `Client credential ${c.clientCredentialId} does not exist.`);
    const orgId = await policy.facts.clientOrg(c.clientCredentialId);
    if (orgId === undefined) throw hidden;
    await policy.requireOnOrg(principal, 'clients:write', orgId).catch((e: unknown) => {
      // Not seeing the organization means not seeing its clients either.
      throw e instanceof IamError && e.code === 'IAM_ERR_NOT_FOUND' ? hidden : e;
    });
  },
};

/** Throws unless `principal` may run `command`; the system may run anything. */
export function authorizeCommand(policy: AccessPolicy<OrgNode>, principal: CommandPrincipal, command: CommandOf<CommandType>): Promise<void> {
  if (principal === 'system') return Promise.resolve();
  const authorize = COMMAND_AUTHORIZATION[command.type] as Authorize<CommandType> | undefined;
  if (!authorize) return Promise.reject(new IamError('IAM_ERR_VALIDATION', `Unknown command type.`));
  return authorize(policy, principal, command);
}
