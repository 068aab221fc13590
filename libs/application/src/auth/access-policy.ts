import { IamError, PERMISSIONS, permissionsOfRoles, type Permission, type Role } from '@arbor/domain';
import type { OrgView, ReadModels, UserMembershipView } from '../ports/read-models';
import type { Principal } from './principal';

/**
 * The one place that decides whether a caller may do something (contract section 4). Every route asks it.
 *
 * - A user holds, on an organization, the permissions of every role they have on it or on any ancestor
 *   (inheritance), read from the precomputed closure in one lookup. Platform admins hold everything.
 * - A client holds its scopes on its organization's subtree, and nothing outside it.
 * - A token's scopes narrow what its subject holds; they never widen it.
 * - "May not see" (no permission at all there) is 404, so existence does not leak; "may see but not do" is 403.
 */
export class AccessPolicy {
  constructor(private readonly readModels: ReadModels) {}

  async permissionsOn(principal: Principal, orgId: string): Promise<Set<Permission>> {
    let held: Iterable<Permission>;
    if (principal.type === 'user') {
      held = principal.platformAdmin ? PERMISSIONS : permissionsOfRoles(await this.readModels.memberships.effectiveRoles(principal.id, orgId));
    } else {
      held = (await this.isWithin(orgId, principal.orgId)) ? PERMISSIONS : [];
    }
    const out = new Set<Permission>();
    for (const p of held) if (principal.scopes.has(p)) out.add(p);
    return out;
  }

  /** The organization, if the principal may exercise `permission` on it; 404 or 403 otherwise. */
  async requireOnOrg(principal: Principal, permission: Permission, orgId: string): Promise<OrgView> {
    const org = await this.readModels.orgs.get(orgId);
    if (!org) throw notFound(orgId);
    const permissions = await this.permissionsOn(principal, orgId);
    if (permissions.size === 0) throw notFound(orgId);
    if (!permissions.has(permission)) throw forbidden(permission);
    return org;
  }

  /** Granting or taking away `owner` needs what an owner holds; other roles need users:write (checked by the route). */
  async requireMayGrant(principal: Principal, orgId: string, roles: Iterable<Role>): Promise<void> {
    for (const role of roles)
      if (role === 'owner' && !(await this.permissionsOn(principal, orgId)).has('orgs:delete'))
        throw new IamError('IAM_ERR_FORBIDDEN', 'Only an owner may grant or take away the owner role.');
  }

  /**
   * Nobody hands out what they do not hold: every scope of a new client must be the caller's own there.
   * `tokens:introspect` (RFC 7662: any token's details) only a platform admin may hand out, not even a
   * client that holds it.
   */
  async requireHoldsAll(principal: Principal, orgId: string, scopes: Iterable<string>): Promise<void> {
    const held = await this.permissionsOn(principal, orgId);
    const platform = (p: Permission) => this.isPlatformAdmin(principal) && principal.scopes.has(p);
    for (const scope of scopes) {
      const holds =
        scope === 'events:read'
          ? platform('events:read') || (principal.type === 'client' && principal.scopes.has('events:read'))
          : scope === 'tokens:introspect'
            ? platform('tokens:introspect')
            : held.has(scope as Permission);
      if (!holds) throw new IamError('IAM_ERR_FORBIDDEN', `The caller does not hold ${scope} on this organization, so cannot grant it.`);
    }
  }

  /** For acts outside any organization: creating, moving or deleting roots, managing users' status. */
  requirePlatform(principal: Principal, permission: Permission): void {
    if (!this.isPlatformAdmin(principal)) throw new IamError('IAM_ERR_FORBIDDEN', 'Only a platform admin may do this.');
    if (!principal.scopes.has(permission)) throw forbidden(permission);
  }

  isPlatformAdmin(principal: Principal): boolean {
    return principal.type === 'user' && principal.platformAdmin;
  }

  /**
   * The subtrees in which the principal holds `permission`; undefined means all of them (platform admins).
   * Lists filter with it, so they return exactly what the caller may see.
   */
  async subtreesWith(principal: Principal, permission: Permission): Promise<string[] | undefined> {
    if (!principal.scopes.has(permission)) return [];
    if (principal.type === 'client') return [principal.orgId];
    if (principal.platformAdmin) return undefined;
    const roots = await this.readModels.memberships.membershipRoots(principal.id);
    return roots.filter((r) => permissionsOfRoles(r.roles).has(permission)).map((r) => r.orgId);
  }

  /** The event log: platform admins see all of it, clients with events:read their own subtree's part. */
  requireEvents(principal: Principal): { withinOrg?: string } {
    if (!principal.scopes.has('events:read')) throw forbidden('events:read');
    if (this.isPlatformAdmin(principal)) return {};
    if (principal.type === 'client') return { withinOrg: principal.orgId };
    throw new IamError('IAM_ERR_FORBIDDEN', 'Only platform admins and clients with events:read may read the event log.');
  }

  /**
   * A user's memberships as the principal may see them: all for themselves and platform admins, otherwise
   * those inside subtrees where the principal holds users:read. 404 when the user is not visible at all.
   */
  async visibleMembershipsOf(principal: Principal, userId: string): Promise<UserMembershipView[]> {
    const self = principal.type === 'user' && principal.id === userId;
    const within = self ? undefined : await this.subtreesWith(principal, 'users:read');
    const memberships = await this.readModels.memberships.listByUser(userId, { withinSubtreesOf: within });
    const user = await this.readModels.users.get(userId);
    if (!user || (!self && within !== undefined && memberships.length === 0))
      throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} does not exist.`);
    return memberships;
  }

  /** Whether `orgId` is `ancestorId` or lies below it. */
  async isWithin(orgId: string, ancestorId: string): Promise<boolean> {
    if (orgId === ancestorId) return true;
    return (await this.readModels.orgs.parents(orgId)).some((o) => o.id === ancestorId);
  }
}

function notFound(orgId: string): IamError {
  return new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
}

function forbidden(permission: Permission): IamError {
  return new IamError('IAM_ERR_FORBIDDEN', `This needs the ${permission} permission.`);
}
