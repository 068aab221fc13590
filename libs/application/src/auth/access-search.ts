import {
  BUILT_IN_ROLE_CATALOG,
  IamError,
  isOwnerLevel,
  isPermission,
  type RoleCatalog,
  type RoleDefinition,
  type RoleId,
} from '@arbor/domain';
import type {
  AccessSearchQueries,
  ClientQueries,
  MembershipQueries,
  OrgQueries,
  RoleQueries,
  UserView,
} from '../ports/read-models';
import { callerReach } from './access-caller-rule';
import type { AccessPolicy } from './access-policy';
import type { Principal } from './principal';

/**
 * AuthZEN 1.0 search/resource and search/subject over the read models (OpenID Authorization API 1.0,
 * section "Search APIs"; contract "Access decisions", subsection "Searches"). Subjects are users (`usr_` ids)
 * and client credentials (their `client_id`); resources are organizations; actions are permission names.
 *
 * Who holds a permission where (contract section 4, design of issue 13):
 * - a user: the permissions of a role (built-in or custom) held through a confirmed membership on the
 *   organization itself, or on an ancestor when the role applies to the subtree; platform admins hold every
 *   built-in permission everywhere and an application permission wherever it is visible (defined there or above); a user who is not active (disabled, erased) holds nothing, as they cannot act;
 * - a client credential: its scopes on its organization's subtree, and the permissions of its roles, held on
 *   its organization as a membership there would be;
 * - an owner-level role (isOwnerLevel) holds every application permission visible where it reaches: at an
 *   organization where one of that name is defined on it or above it.
 *
 * Pages are keyset pages in id order: `after` is the last id of the previous page ('' for the first).
 * No id appears on two pages, and an id that qualifies throughout the paging appears exactly once.
 */

/** An AuthZEN subject as the searches take it. */
export interface SearchSubject {
  type: 'user' | 'client';
  id: string;
}

/**
 * Whether the role grants `action` where it reaches: it names it, or `action` is an application permission
 * visible there (`visibleApplicationPermission`) and the role is owner-level (design13).
 */
const grants = (role: RoleDefinition | undefined, action: string, visibleApplicationPermission = false): boolean =>
  role !== undefined &&
  ((role.permissions as readonly string[]).includes(action) || (visibleApplicationPermission && isOwnerLevel(role)));

/** Where a subject holds an action: subtrees (their roots) and single organizations. */
interface Held {
  subtreeRoots: string[];
  orgIds: string[];
}

/** Where a caller may ask: whole subtrees (their roots) and single organizations (organization-reach roles). */
export interface SearchScope {
  subtreeRoots: string[];
  orgIds: string[];
}

/**
 * The caller rule of the access decision API (callerReach, which point checks read too) as where `principal`
 * may ask about `subject` (undefined: everywhere):
 * - a user asking about themselves: everywhere (their own grants are theirs to know);
 * - a client credential whose token holds `access:evaluate`: its own organization's subtree;
 * - a user holding `access:evaluate` (admins, owners, custom roles): the subtrees where they hold it, and the
 *   single organizations where an organization-reach role gives it (AccessPolicy.listScopeWith); platform
 *   admins (with the scope) everywhere.
 * @throws IamError IAM_ERR_FORBIDDEN (403) when the caller may ask nowhere.
 */
export async function accessQuestionScope(
  policy: AccessPolicy,
  principal: Principal,
  subject?: SearchSubject,
): Promise<SearchScope | undefined> {
  const reach = callerReach(principal, subject);
  if (reach.kind === 'self' || reach.kind === 'anywhere') return undefined;
  if (reach.kind === 'client_subtree') return { subtreeRoots: [reach.orgId], orgIds: [] };
  const scope = await policy.listScopeWith(principal, 'access:evaluate');
  if (scope === undefined) return undefined;
  if (scope.withinSubtreesOf.length === 0 && scope.withinOrgs.length === 0)
    throw new IamError(
      'IAM_ERR_FORBIDDEN',
      'Asking about other subjects needs the access:evaluate permission (a user may always ask about themselves).',
    );
  return { subtreeRoots: scope.withinSubtreesOf, orgIds: scope.withinOrgs };
}

/**
 * What AccessSearch reads: the present read models (ReadModels has every member), or the past at a log position
 * (accessSearchReadsAt, from the temporal read model).
 */
export interface AccessSearchReads {
  search: AccessSearchQueries;
  orgs: Pick<OrgQueries, 'parents'>;
  roles: Pick<RoleQueries, 'permissionsNamed'>;
  clients: Pick<ClientQueries, 'getByClientId'>;
  users: { get(userId: string): Promise<Pick<UserView, 'status' | 'platformAdmin'> | undefined> };
  memberships: Pick<MembershipQueries, 'membershipRoots'>;
}

export class AccessSearch {
  constructor(
    private readonly readModels: AccessSearchReads,
    private readonly roles: RoleCatalog = BUILT_IN_ROLE_CATALOG,
  ) {}

  /**
   * Organizations (ids) where `subject` may do `action`, restricted to `within` (the caller's scope;
   * undefined: everywhere), the `limit` first after `after`. An unknown subject holds nothing: empty.
   */
  async resources(
    subject: SearchSubject,
    action: string,
    within: SearchScope | undefined,
    after: string,
    limit: number,
  ): Promise<string[]> {
    await this.roles.refresh?.();
    const held = await this.heldIn(subject, action);
    if (held === 'all' && within === undefined) return this.readModels.search.orgIdsAfter('all', after, limit);
    const scope = held === 'all' ? within! : await this.restrict(held, within);
    if (scope.subtreeRoots.length === 0 && scope.orgIds.length === 0) return [];
    return this.readModels.search.orgIdsAfter(scope, after, limit);
  }

  /**
   * Subjects of `type` that may do `action` on `orgId` (which the caller has checked exists and is within
   * reach): user ids, or client credentials (`id` the keyset, `clientId` the AuthZEN id).
   */
  async subjects(
    type: SearchSubject['type'],
    orgId: string,
    action: string,
    after: string,
    limit: number,
    /** Whether platform admins (who hold it wherever it is visible) are listed: to platform admins only. */
    listPlatformAdmins = true,
  ): Promise<Array<{ key: string; id: string }>> {
    await this.roles.refresh?.();
    const ancestors = (await this.readModels.orgs.parents(orgId)).map((o) => o.id);
    const path = [...ancestors, orgId];
    const applicationPermission =
      !isPermission(action) &&
      (await this.readModels.roles.permissionsNamed(action)).some((p) => path.includes(p.orgId));
    const visible = this.roles.visibleAt(orgId, ancestors).filter((r) => grants(r, action, applicationPermission));
    const onOrg = visible.map((r) => r.id);
    const fromAbove = visible.filter((r) => r.appliesTo === 'subtree').map((r) => r.id);
    const grantsByOrg = path.map((id) => ({ orgId: id, roles: id === orgId ? onOrg : fromAbove }));
    if (type === 'client') {
      const clients = await this.readModels.search.clientsAfter(path, action, after, limit, grantsByOrg);
      return clients.map((c) => ({ key: c.id, id: c.clientId }));
    }
    // Platform admins hold every built-in permission and every application permission visible here; one defined
    // nowhere on the path they do not hold either (as the evaluation says).
    const ids = await this.readModels.search.userIdsAfter(
      grantsByOrg,
      listPlatformAdmins && (isPermission(action) || applicationPermission),
      after,
      limit,
    );
    return ids.map((id) => ({ key: id, id }));
  }

  /** Where the subject holds `action`: everywhere, or subtree roots and single organizations. */
  private async heldIn(subject: SearchSubject, action: string): Promise<'all' | Held> {
    const out: Held = { subtreeRoots: [], orgIds: [] };
    let grantsHeld: Array<{ orgId: string; roles: readonly RoleId[] }>;
    if (subject.type === 'client') {
      const client = await this.readModels.clients.getByClientId(subject.id);
      if (!client) return out;
      if (client.scopes.includes(action)) return { subtreeRoots: [client.orgId], orgIds: [] };
      grantsHeld = [{ orgId: client.orgId, roles: client.roles }];
    } else {
      const user = await this.readModels.users.get(subject.id);
      if (user === undefined || user.status !== 'active') return out;
      if (user.platformAdmin) {
        if (isPermission(action)) return 'all';
        // An application permission: where it is visible, the subtrees of the organizations defining it.
        const definedOn = (await this.readModels.roles.permissionsNamed(action)).map((p) => p.orgId);
        return { subtreeRoots: [...new Set(definedOn)], orgIds: [] };
      }
      grantsHeld = await this.readModels.memberships.membershipRoots(subject.id);
    }
    const owning: Array<{ orgId: string; role: RoleDefinition }> = [];
    for (const { orgId, roles } of grantsHeld) {
      const defined = roles.map((r: RoleId) => this.roles.get(r)).filter((r) => r !== undefined);
      const granting = defined.filter((r) => grants(r, action));
      if (granting.some((r) => r.appliesTo === 'subtree')) out.subtreeRoots.push(orgId);
      else if (granting.length > 0) out.orgIds.push(orgId);
      for (const role of defined) if (isOwnerLevel(role)) owning.push({ orgId, role });
    }
    if (owning.length > 0 && !isPermission(action)) await this.ownersReach(action, owning, out);
    return out;
  }

  /**
   * Adds where owner-level roles hold the application permission `action` (design13): where an organization
   * defining one so named (`D`) and the role's reach meet. Held on `M` for the subtree: the subtree of `D`
   * when `D` lies in `M`'s, or `M`'s when `M` lies in `D`'s; for `M` alone: `M`, when `D` is `M` or above it.
   */
  private async ownersReach(
    action: string,
    owning: ReadonlyArray<{ orgId: string; role: RoleDefinition }>,
    out: Held,
  ): Promise<void> {
    const definedOn = (await this.readModels.roles.permissionsNamed(action)).map((p) => p.orgId);
    if (definedOn.length === 0) return;
    const lineageOf = this.lineageReader();
    for (const { orgId, role } of owning)
      for (const d of definedOn) {
        if ((await lineageOf(orgId)).has(d)) (role.appliesTo === 'subtree' ? out.subtreeRoots : out.orgIds).push(orgId);
        else if (role.appliesTo === 'subtree' && (await lineageOf(d)).has(orgId)) out.subtreeRoots.push(d);
      }
  }

  /**
   * The part of `held` inside the caller's scope `within` (undefined: all of it): a held root inside a caller's
   * root stays, a caller's root inside a held root stays; a single organization stays when it is inside a
   * root of the other side or on both sides. Roots that overlap cost nothing more than a duplicate the merge drops.
   */
  private async restrict(held: Held, within: SearchScope | undefined): Promise<Held> {
    if (within === undefined)
      return { subtreeRoots: [...new Set(held.subtreeRoots)], orgIds: [...new Set(held.orgIds)] };
    const lineageOf = this.lineageReader();
    const anyWithin = async (id: string, roots: readonly string[]) => {
      const line = await lineageOf(id);
      return roots.some((root) => line.has(root));
    };
    const roots: string[] = [];
    for (const r of held.subtreeRoots) if (await anyWithin(r, within.subtreeRoots)) roots.push(r);
    for (const c of within.subtreeRoots) if (await anyWithin(c, held.subtreeRoots)) roots.push(c);
    const singles: string[] = [];
    for (const s of held.orgIds)
      if (within.orgIds.includes(s) || (await anyWithin(s, within.subtreeRoots))) singles.push(s);
    for (const o of within.orgIds) if (await anyWithin(o, held.subtreeRoots)) singles.push(o);
    return { subtreeRoots: [...new Set(roots)], orgIds: [...new Set(singles)] };
  }

  /**
   * An organization's lineage (its ancestors and itself, as a set), read from the read models once per id for the
   * life of the returned function: one search's containment checks ask about the same few ids again and again.
   */
  private lineageReader(): (id: string) => Promise<Set<string>> {
    const lineage = new Map<string, Set<string>>();
    return async (id) => {
      let set = lineage.get(id);
      if (!set) {
        set = new Set([...(await this.readModels.orgs.parents(id)).map((o) => o.id), id]);
        lineage.set(id, set);
      }
      return set;
    };
  }
}
