import {
  BUILT_IN_ROLE_CATALOG,
  IamError,
  NO_ROLE_GRANTS,
  PERMISSIONS,
  isOwnerLevel,
  isPermission,
  isRole,
  permissionsOfRoles,
  type Permission,
  type Role,
  type RoleCatalog,
  type RoleDefinition,
  type RoleReach,
} from '@arbor/domain';
import { callerReach } from './access-caller-rule';
import type { AccessFacts, OrgRef } from './access-facts';
import type { Principal } from './principal';

/**
 * The one place that decides whether a caller may do something (contract section 4). Queries ask it at the
 * gateway over the read models; commands ask it again inside the command service's write transaction over
 * the command model (see `authorizeCommand`), so every transport gets the same answer.
 *
 * - A user holds, on an organization, the permissions of every role they have on it, and of every role they
 *   have on an ancestor whose definition applies to the subtree (all built-in roles do). What a role grants
 *   is its definition's (RoleCatalog), never a table here. Platform admins hold everything.
 * - A client holds its scopes on its organization's subtree, and nothing outside it.
 * - A token's scopes narrow what its subject holds; they never widen it.
 * - "May not see" (no permission at all there) is 404, so existence does not leak; "may see but not do" is 403.
 */
export class AccessPolicy<Org extends OrgRef = OrgRef> {
  /**
   * `roles`: the role definitions memberships and clients name. A catalog with `refresh` (the gateway's, over
   * the read models) is refreshed before any decision that meets a custom role id (see `freshFor`): built-in
   * definitions never change, so a decision over built-in roles only costs nothing more.
   */
  constructor(
    readonly facts: AccessFacts<Org>,
    readonly roles: RoleCatalog = BUILT_IN_ROLE_CATALOG,
  ) {}

  /** The same rules and role definitions over other facts (one request's: RequestAccessFacts). */
  over<O extends OrgRef>(facts: AccessFacts<O>): AccessPolicy<O> {
    return new AccessPolicy(facts, this.roles);
  }

  /**
   * What the principal holds on `orgId`, narrowed by its token's scopes. `reach` `subtree` counts only grants
   * that also cover everything below `orgId` (a role held on `orgId` itself that applies to it alone does not).
   */
  async permissionsOn(
    principal: Principal,
    orgId: string,
    reach: RoleReach = 'organization',
  ): Promise<Set<Permission>> {
    const holder: PermissionHolder =
      principal.type === 'user'
        ? { type: 'user', id: principal.id, platformAdmin: principal.platformAdmin }
        : { type: 'client', orgId: principal.orgId, grants: PERMISSIONS };
    const out = new Set<Permission>();
    // Tokens carry built-in permissions only, so the owner-level application permissions need not be read here.
    for (const p of await this.heldByRoles(holder, orgId, reach, false)) if (principal.scopes.has(p)) out.add(p);
    return out;
  }

  /**
   * The decision core every answer shares (the API's own checks through `permissionsOn`, and the access
   * decision API about any subject): what `holder` holds on `orgId`, before any token narrows it. Platform
   * admins hold everything; a user the permissions of their roles there and above (see `userPermissionsOn`);
   * a client its `grants` on its organization's subtree, nothing outside it. design13: platform admins, and an
   * owner-level role (isOwnerLevel) that reaches `orgId`, also hold every application permission visible there.
   */
  async heldBy(holder: PermissionHolder, orgId: string, reach: RoleReach = 'organization'): Promise<Set<Permission>> {
    return this.heldByRoles(holder, orgId, reach, true);
  }

  private async heldByRoles(
    holder: PermissionHolder,
    orgId: string,
    reach: RoleReach,
    applicationPermissions: boolean,
  ): Promise<Set<Permission>> {
    if (holder.type === 'user' && holder.platformAdmin) {
      const all = new Set<Permission>(PERMISSIONS);
      // design13: platform admins hold everything, the application permissions visible there included.
      if (applicationPermissions)
        for (const name of await this.facts.applicationPermissionsAt(orgId)) all.add(name as Permission);
      return all;
    }
    if (holder.type === 'user') return this.userPermissionsOn(holder.id, orgId, reach, applicationPermissions);
    if (!(await this.isWithin(orgId, holder.orgId))) return new Set();
    await this.freshFor(holder.roles ?? []);
    const out = new Set(holder.grants);
    // design13: in access decisions a client holds its scopes and the permissions of its roles that reach orgId.
    const reaching = (holder.roles ?? []).filter((roleId) => this.roleReaches(roleId, holder.orgId, orgId));
    for (const roleId of reaching) for (const p of this.roles.get(roleId)!.permissions) out.add(p);
    if (applicationPermissions) await this.addOwnerLevel(out, reaching, orgId);
    return out;
  }

  /** design13: every application permission visible at `orgId`, when one of the roles is owner-level. */
  private async addOwnerLevel(out: Set<Permission>, roleIds: readonly Role[], orgId: string): Promise<void> {
    if (!roleIds.some((roleId) => isOwnerLevel(this.roles.get(roleId)!))) return;
    for (const name of await this.facts.applicationPermissionsAt(orgId)) out.add(name as Permission);
  }

  /**
   * The role ids that give the user permissions on `orgId` (RFC 9068 `roles` of a token for `orgId`): those held
   * there or above it (effectiveRoles), less the ones whose definition applies to its own organization only,
   * unless held on `orgId` itself (and `reach` is `organization`). Unknown role ids are left out; no duplicates.
   * Only a role that applies to its organization alone costs the second lookup; no built-in role does.
   */
  async userRolesOn(userId: string, orgId: string, reach: RoleReach = 'organization'): Promise<Role[]> {
    const out = new Set<Role>();
    let direct: readonly Role[] | undefined;
    const effective = await this.facts.effectiveRoles(userId, orgId);
    await this.freshFor(effective);
    for (const roleId of effective) {
      const role = this.roles.get(roleId);
      if (!role) continue;
      if (role.appliesTo === 'organization') {
        if (reach === 'subtree') continue;
        direct ??= (await this.facts.isPendingMember(orgId, userId))
          ? []
          : ((await this.facts.directRoles(orgId, userId)) ?? []);
        if (!direct.includes(roleId)) continue;
      }
      out.add(roleId);
    }
    return [...out];
  }

  /**
   * The permissions of the user's roles on `orgId` (those `userRolesOn` names), with `applicationPermissions`
   * also those an owner-level role holds there (design13).
   */
  private async userPermissionsOn(
    userId: string,
    orgId: string,
    reach: RoleReach,
    applicationPermissions = false,
  ): Promise<Set<Permission>> {
    const out = new Set<Permission>();
    const roles = await this.userRolesOn(userId, orgId, reach);
    let ownerLevel = false;
    for (const roleId of roles) {
      const role = this.roles.get(roleId);
      if (role === undefined) continue;
      for (const p of role.permissions) out.add(p);
      ownerLevel ||= isOwnerLevel(role);
    }
    // Awaited only when it can add something: an await costs every decision a turn of the microtask queue.
    if (applicationPermissions && ownerLevel) await this.addOwnerLevel(out, roles, orgId);
    return out;
  }

  /**
   * Whether a role held on `heldOn` reaches `orgId` (`orgId` is `heldOn` or below it): a subtree role always,
   * an organization-only role on its own organization only. What explanations name as the grant's reach; the
   * same rule `userPermissionsOn` applies.
   */
  roleReaches(roleId: Role, heldOn: string, orgId: string): boolean {
    const role = this.roles.get(roleId);
    return role !== undefined && (role.appliesTo === 'subtree' || heldOn === orgId);
  }

  /**
   * Who may ask the access decision API (contract section 9) about `subject` on `orgId`: the caller rule
   * (callerReach, which search scopes read too) applied to one organization. An organization outside the
   * caller's reach is answered as if it did not exist (IAM_ERR_NOT_FOUND, 404); a caller that may not ask
   * there is IAM_ERR_FORBIDDEN (403). Returns nothing; throws otherwise.
   */
  async requireMayAsk(principal: Principal, subject: { type: string; id: string }, orgId: string): Promise<void> {
    const reach = callerReach(principal, subject);
    if (!(await this.facts.org(orgId))) throw notFound(orgId);
    if (reach.kind === 'anywhere' || this.isPlatformAdmin(principal)) return;
    if (reach.kind === 'client_subtree') {
      if (!(await this.isWithin(orgId, reach.orgId))) throw notFound(orgId);
      return;
    }
    const held = await this.userPermissionsOn(principal.id, orgId, 'organization');
    if (held.size === 0) throw notFound(orgId);
    if (reach.kind === 'self' || held.has('access:evaluate')) return;
    throw forbidden('access:evaluate');
  }

  /** The organization, if the principal may exercise `permission` on it; 404 or 403 otherwise. */
  async requireOnOrg(principal: Principal, permission: Permission, orgId: string): Promise<Org> {
    const org = await this.facts.org(orgId);
    if (!org) throw notFound(orgId);
    const permissions = await this.permissionsOn(principal, orgId);
    if (permissions.size === 0) throw notFound(orgId);
    if (!permissions.has(permission)) throw forbidden(permission);
    return org;
  }

  /**
   * A change of parent (contract section 5, "move within the subtree"). Only platform admins move roots,
   * make roots or move an organization from one tree to another. Anyone else needs `orgs:write` on the
   * destination (404 when they cannot see it) and `orgs:write` from one grant that covers both the current
   * and the new parent: a role held on a common ancestor of the two (the tree's root included), which is
   * exactly what their lowest common ancestor inherits. Write access on the moved organization alone, or
   * on the two parents through different grants, is not enough: that would let an admin of two unrelated
   * subtrees carry one into the other. The caller must already have passed `requireOnOrg(orgs:write)` on
   * the moved organization.
   */
  async requireMayMove(principal: Principal, org: OrgRef, newParentId: string | null): Promise<void> {
    if (newParentId === org.parentId) return;
    if (org.parentId === null || newParentId === null) {
      this.requirePlatform(principal, 'orgs:write');
      return;
    }
    await this.requireOnOrg(principal, 'orgs:write', newParentId);
    if (this.isPlatformAdmin(principal)) return;
    const from = [...(await this.facts.ancestorIds(org.parentId)), org.parentId];
    const to = [...(await this.facts.ancestorIds(newParentId)), newParentId];
    if (from[0] !== to[0])
      throw new IamError(
        'IAM_ERR_FORBIDDEN',
        'An organization cannot be moved into another tree; only a platform admin may do that.',
      );
    let common = 0;
    while (common < from.length && common < to.length && from[common] === to[common]) common++;
    const lowestCommonAncestor = from[common - 1];
    if (!(await this.permissionsOn(principal, lowestCommonAncestor, 'subtree')).has('orgs:write'))
      throw new IamError(
        'IAM_ERR_FORBIDDEN',
        'Moving an organization needs orgs:write on an organization above both its current and its new parent.',
      );
  }

  /**
   * The granting rules (contract section 4): the owner rule, granting or taking away an owner-level role (one
   * whose definition grants `orgs:delete`, see `isOwnerLevel`; of the built-ins, `owner`) needs `orgs:delete`
   * on the organization; and nobody grants what they do not hold: the caller must hold on `orgId` every
   * permission each granted role grants (a built-in permission: in `permissionsOn`; an application permission,
   * design13: through a role of theirs that grants it or an owner-level one, or as a platform admin). users:write
   * is checked by the caller. Unknown ids, and ids of roles not visible at `orgId` (defined in another tree or
   * below it), are left to the decider's validation (400): judging them here would answer 403 naming what another
   * tenant's role grants. 403 otherwise.
   */
  async requireMayGrant(principal: Principal, orgId: string, roles: Iterable<Role>): Promise<void> {
    await this.requireHoldsRoles(principal, orgId, await this.visibleDefinitions(orgId, roles), 'grant or take away');
  }

  /** The definitions of `roles` visible at `orgId` (built-in, or defined there or above); the rest are skipped. */
  private async visibleDefinitions(orgId: string, roles: Iterable<Role>): Promise<RoleDefinition[]> {
    const visible: RoleDefinition[] = [];
    roles = [...roles];
    await this.freshFor(roles);
    for (const roleId of roles) {
      const role = this.roles.get(roleId);
      if (role && (role.orgId === null || (await this.isWithin(orgId, role.orgId)))) visible.push(role);
    }
    return visible;
  }

  /**
   * Defining, changing or deleting a custom role on `orgId` that grants `permissions` (issue 13): the same
   * holding rule as granting (requireMayGrant), for a role that is not in the catalog yet (or not any more as
   * it was). roles:write is checked by the caller. Throws IamError IAM_ERR_FORBIDDEN (403).
   */
  async requireMayDefine(principal: Principal, orgId: string, permissions: readonly string[]): Promise<void> {
    // Only what a role may grant at all: a built-in permission no role grants, or an application permission not
    // visible at `orgId`, is the decider's 400 (contract section 4.1), for every caller alike.
    const visible = new Set(await this.facts.applicationPermissionsAt(orgId));
    const definable = [...new Set(permissions)].filter((p) =>
      isPermission(p) ? !(NO_ROLE_GRANTS as readonly string[]).includes(p) : visible.has(p),
    );
    const role: RoleDefinition = {
      id: DEFINED_ROLE,
      name: DEFINED_ROLE,
      description: '',
      permissions: definable as Permission[],
      appliesTo: 'subtree',
      orgId,
    };
    await this.requireHoldsRoles(principal, orgId, [role], 'define');
  }

  private async requireHoldsRoles(
    principal: Principal,
    orgId: string,
    roles: readonly RoleDefinition[],
    act: string,
  ): Promise<void> {
    // What the caller holds, per reach: a grant reaches as far as its role applies (a definition, as far as it
    // may be granted: the defining organization and everything below), so the caller must hold what it gives
    // that far; rights held through an organization-reach role count on `orgId` alone.
    const held = new Map<RoleReach, Set<Permission>>();
    const fromRoles = new Map<RoleReach, Set<Permission>>();
    for (const role of roles) {
      const reach: RoleReach = role.id === DEFINED_ROLE ? 'subtree' : role.appliesTo;
      const holds = held.get(reach) ?? (await this.permissionsOn(principal, orgId, reach));
      held.set(reach, holds);
      const where = reach === 'subtree' ? 'on this organization and everything below it' : 'on this organization';
      if (isOwnerLevel(role) && !holds.has('orgs:delete'))
        throw new IamError(
          'IAM_ERR_FORBIDDEN',
          role.id === DEFINED_ROLE
            ? `Only an owner (holding orgs:delete ${where}) may ${act} a role that grants orgs:delete.`
            : `Only an owner may ${act} the ${role.id} role.`,
        );
      for (const p of role.permissions) {
        if (holds.has(p) || this.isPlatformAdmin(principal)) continue;
        // Application permissions are no token scopes: a role of the caller's grants them, or an owner-level one.
        if (!isPermission(p) && principal.type === 'user') {
          const own = fromRoles.get(reach) ?? (await this.userPermissionsOn(principal.id, orgId, reach));
          fromRoles.set(reach, own);
          if (own.has(p) || holds.has('orgs:delete')) continue;
        }
        throw new IamError(
          'IAM_ERR_FORBIDDEN',
          `The caller does not hold ${p} ${where}, so cannot ${act} ${role.id === DEFINED_ROLE ? 'this' : `the ${role.id}`} role.`,
        );
      }
    }
  }

  /**
   * Granting (or taking away) roles on `orgId`, for client credentials (issue 13): the owner rule
   * (requireMayGrant), and the caller holds every permission each role grants there (requireHoldsAll), so
   * nobody grants a permission they do not hold. Unknown ids grant nothing here and are left to the decider
   * (400). Throws IamError IAM_ERR_FORBIDDEN (403).
   */
  async requireMayGrantRoles(principal: Principal, orgId: string, roles: readonly Role[]): Promise<void> {
    const visible = await this.visibleDefinitions(orgId, roles);
    await this.requireHoldsRoles(principal, orgId, visible, 'grant or take away');
    // That has checked every permission, application ones included (held through a role of the caller's or an
    // owner-level one: they are no token scopes); what remains is the scope rules of the built-in ones
    // (events:read, tokens:introspect). Roles not visible at `orgId` are the decider's 400, as in requireMayGrant.
    const builtIn = [
      ...permissionsOfRoles(
        visible.map((r) => r.id),
        this.roles,
      ),
    ].filter((p) => isPermission(p));
    await this.requireHoldsAll(principal, orgId, builtIn);
  }

  /**
   * Nobody hands out what they do not hold: every scope of a new client must be the caller's own there, with
   * `reach` `subtree` (a client's scopes reach its organization's whole subtree) held on `orgId` and everything
   * below it, not through a role that applies to `orgId` alone. `tokens:introspect` (RFC 7662: any token's
   * details) only a platform admin may hand out, not even a client that holds it. Throws IAM_ERR_FORBIDDEN (403).
   */
  async requireHoldsAll(
    principal: Principal,
    orgId: string,
    scopes: Iterable<string>,
    reach: RoleReach = 'organization',
  ): Promise<void> {
    const held = await this.permissionsOn(principal, orgId, reach);
    const platform = (p: Permission) => this.isPlatformAdmin(principal) && principal.scopes.has(p);
    for (const scope of scopes) {
      const holds =
        scope === 'events:read'
          ? platform('events:read') || (principal.type === 'client' && principal.scopes.has('events:read'))
          : scope === 'tokens:introspect'
            ? platform('tokens:introspect')
            : held.has(scope as Permission);
      if (!holds)
        throw new IamError(
          'IAM_ERR_FORBIDDEN',
          `The caller does not hold ${scope} on this organization${reach === 'subtree' ? ' and everything below it' : ''}, so cannot grant it.`,
        );
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
   * Whether the principal may see the user at all: themselves, platform admins, and anyone holding
   * `users:read` on an organization where the user is a direct member (what `GET /users` lists).
   */
  async maySeeUser(principal: Principal, userId: string): Promise<boolean> {
    if (principal.type === 'user' && principal.id === userId) return true;
    if (!principal.scopes.has('users:read')) return false;
    if (this.isPlatformAdmin(principal)) return true;
    for (const { orgId } of await this.facts.membershipRoots(userId))
      if ((await this.permissionsOn(principal, orgId)).has('users:read')) return true;
    return false;
  }

  /** 404, as for a user that does not exist, unless the principal may see the user. */
  async requireMaySeeUser(principal: Principal, userId: string): Promise<void> {
    if (!(await this.maySeeUser(principal, userId)))
      throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} does not exist.`);
  }

  /**
   * A user's profile (name) is global: it changes only by the user, a platform admin, or a caller whose
   * `users:write` covers every organization the user is a direct member of (contract section 6); a platform
   * admin's, only by a platform admin. An admin of one tree therefore cannot rename a user who also belongs
   * to another. 404 when the user is invisible.
   */
  async requireMayEditProfile(principal: Principal, userId: string): Promise<void> {
    if (principal.type === 'user' && principal.id === userId) return;
    if (this.isPlatformAdmin(principal)) {
      if (!principal.scopes.has('users:write')) throw forbidden('users:write');
      return;
    }
    await this.requireMaySeeUser(principal, userId);
    // A platform admin's profile is no tenant's to change, whatever memberships they hold.
    if (await this.facts.isPlatformAdminUser(userId))
      throw new IamError('IAM_ERR_FORBIDDEN', "A platform admin's profile may be changed only by a platform admin.");
    for (const { orgId } of await this.facts.membershipRoots(userId))
      if (!(await this.permissionsOn(principal, orgId)).has('users:write'))
        throw new IamError(
          'IAM_ERR_FORBIDDEN',
          "A user's profile may be changed only by the user, a platform admin, or someone with users:write on every organization the user belongs to.",
        );
  }

  /**
   * Where a list filtered by "where the caller holds `permission`" may look (contract sections 5, 6, 7): the
   * subtrees of `subtreesWith`, plus `withinOrgs`, the single organizations where the permission is held through
   * a confirmed membership whose role applies to that organization alone (appliesTo `organization`). Undefined
   * means everywhere (platform admins); a client has its organization's subtree and no single organizations.
   * Both arrays empty: nowhere. Pass both to the list filters (OrgListFilter, UserListFilter, clients), which
   * take their union.
   */
  async listScopeWith(
    principal: Principal,
    permission: Permission,
  ): Promise<{ withinSubtreesOf: string[]; withinOrgs: string[] } | undefined> {
    const withinSubtreesOf = await this.subtreesWith(principal, permission);
    if (withinSubtreesOf === undefined) return undefined;
    if (principal.type === 'client' || !principal.scopes.has(permission)) return { withinSubtreesOf, withinOrgs: [] };
    const roots = await this.facts.membershipRoots(principal.id);
    await this.freshFor(roots.flatMap((r) => r.roles));
    const reachesOrg = (roleId: Role) => {
      const role = this.roles.get(roleId);
      return role !== undefined && role.appliesTo === 'organization' && role.permissions.includes(permission);
    };
    const withinOrgs = roots.filter((r) => r.roles.some(reachesOrg)).map((r) => r.orgId);
    return { withinSubtreesOf, withinOrgs };
  }

  /**
   * The subtrees in which the principal holds `permission`; undefined means all of them (platform admins).
   * Lists filter with it, so they return what the caller may see. A role that applies to its own
   * organization only reaches no subtree, so it is not counted here (no built-in role is such a role).
   */
  async subtreesWith(principal: Principal, permission: Permission): Promise<string[] | undefined> {
    if (!principal.scopes.has(permission)) return [];
    if (principal.type === 'client') return [principal.orgId];
    if (principal.platformAdmin) return undefined;
    const roots = await this.facts.membershipRoots(principal.id);
    await this.freshFor(roots.flatMap((r) => r.roles));
    const reachesSubtree = (roleId: Role) => {
      const role = this.roles.get(roleId);
      return role !== undefined && role.appliesTo === 'subtree' && role.permissions.includes(permission);
    };
    return roots.filter((r) => r.roles.some(reachesSubtree)).map((r) => r.orgId);
  }

  /**
   * Whether the principal holds `permission` on `orgId` and on everything below it: a platform admin, a client whose
   * subtree holds `orgId`, or a user with a subtree role granting it on `orgId` or an ancestor. False for a holder
   * of an organization-only role there, whose reach stops at that organization: lists of descendants (children)
   * then show only those the caller reaches one by one.
   */
  async reachesSubtree(principal: Principal, permission: Permission, orgId: string): Promise<boolean> {
    const roots = await this.subtreesWith(principal, permission);
    if (roots === undefined) return true;
    for (const root of roots) if (await this.isWithin(orgId, root)) return true;
    return false;
  }

  /** The event log: platform admins see all of it, clients with events:read their own subtree's part. */
  requireEvents(principal: Principal): { withinOrg?: string } {
    if (!principal.scopes.has('events:read')) throw forbidden('events:read');
    if (this.isPlatformAdmin(principal)) return {};
    if (principal.type === 'client') return { withinOrg: principal.orgId };
    throw new IamError(
      'IAM_ERR_FORBIDDEN',
      'Only platform admins and clients with events:read may read the event log.',
    );
  }

  /**
   * Managing the webhook subscriptions of `orgId` (contract section 10): a subscription is a standing read of the
   * subtree's log, so it needs what reading that part of the log needs (`requireEvents`): platform admins with
   * `events:read`, and clients with `events:read` within their own subtree. Throws IamError IAM_ERR_NOT_FOUND
   * (404) when the organization does not exist or the caller cannot see it, IAM_ERR_FORBIDDEN (403) when they
   * see it without that right.
   */
  async requireEventsOn(principal: Principal, orgId: string): Promise<Org> {
    const org = await this.facts.org(orgId);
    if (!org) throw notFound(orgId);
    const sees = this.isPlatformAdmin(principal)
      ? true
      : principal.type === 'client'
        ? await this.isWithin(orgId, principal.orgId)
        : (await this.permissionsOn(principal, orgId)).size > 0;
    if (!sees) throw notFound(orgId);
    this.requireEvents(principal);
    return org;
  }

  /**
   * Brings the catalog up to date (RoleCatalog.refresh) when `roleIds` name a custom role: its definition may
   * have changed since the catalog last looked. Built-in ids need nothing. Public for the callers that read
   * `roles` themselves (explanations, searches).
   */
  async freshFor(roleIds: Iterable<Role>): Promise<void> {
    if (this.roles.refresh === undefined) return;
    for (const roleId of roleIds) if (!isRole(roleId)) return this.roles.refresh();
  }

  /** Whether `orgId` is `ancestorId` or lies below it. */
  async isWithin(orgId: string, ancestorId: string): Promise<boolean> {
    if (orgId === ancestorId) return true;
    return (await this.facts.ancestorIds(orgId)).includes(ancestorId);
  }
}

/**
 * Whoever permissions are asked about: a user (platform admin or not), or a client credential with what it was
 * granted (`grants`: its scopes; `roles`: the role ids it holds on `orgId`, design13, absent = none), acting
 * within `orgId`'s subtree. What a request's token narrows is not here.
 */
export type PermissionHolder =
  | { type: 'user'; id: string; platformAdmin: boolean }
  | { type: 'client'; orgId: string; grants: Iterable<Permission>; roles?: readonly Role[] };

function notFound(orgId: string): IamError {
  return new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
}

/** The stand-in id of a role being defined or changed (requireMayDefine): the messages say "this role" for it. */
const DEFINED_ROLE = '(defined)';

function forbidden(permission: Permission): IamError {
  return new IamError('IAM_ERR_FORBIDDEN', `This needs the ${permission} permission.`);
}
