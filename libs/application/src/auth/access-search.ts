import { BUILT_IN_ROLE_CATALOG, IamError, type RoleCatalog, type RoleDefinition, type RoleId } from '@arbor/domain';
import type { ReadModels } from '../ports/read-models';
import type { AccessPolicy } from './access-policy';
import type { Principal } from './principal';

/**
 * AuthZEN 1.0 search/resource and search/subject over the read models (OpenID Authorization API 1.0,
 * section "Search APIs"; contract "Access decisions", subsection "Searches"). Subjects are users (`usr_` ids)
 * and client credentials (their `client_id`); resources are organizations; actions are permission names.
 *
 * Who holds a permission where (contract section 4, design of issue 13):
 * - a user: the permissions of a role held through a confirmed membership on the organization itself, or on
 *   an ancestor when the role applies to the subtree; platform admins hold everything everywhere; a user who
 *   is not active (disabled, erased) holds nothing, as they cannot act;
 * - a client credential: its scopes on its organization's subtree (roles of client credentials join once
 *   they exist).
 *
 * Pages are keyset pages in id order: `after` is the last id of the previous page ('' for the first).
 * No id appears on two pages, and an id that qualifies throughout the paging appears exactly once.
 */

/** An AuthZEN subject as the searches take it. */
export interface SearchSubject {
  type: 'user' | 'client';
  id: string;
}

/** Whether the role grants `action`. Application permissions (i13-roles) extend this for owner-level roles. */
const grants = (role: RoleDefinition | undefined, action: string): boolean =>
  role !== undefined && (role.permissions as readonly string[]).includes(action);

/**
 * The caller rule of the access decision API (design of issue 13): the subtrees within which `principal`
 * may ask about `subject` (undefined: everywhere).
 * - a user asking about themselves: everywhere (their own grants are theirs to know);
 * - a client credential whose token holds `access:evaluate`: its own organization's subtree;
 * - a user holding `access:evaluate` (admins, owners): the subtrees where they hold it; platform admins
 *   (with the scope) everywhere.
 * @throws IamError IAM_ERR_FORBIDDEN (403) when the caller may ask nowhere.
 */
export async function accessQuestionScope(
  policy: AccessPolicy,
  principal: Principal,
  subject?: SearchSubject,
): Promise<string[] | undefined> {
  if (principal.type === 'user' && subject?.type === 'user' && subject.id === principal.id) return undefined;
  const subtrees = await policy.subtreesWith(principal, 'access:evaluate');
  if (subtrees !== undefined && subtrees.length === 0)
    throw new IamError(
      'IAM_ERR_FORBIDDEN',
      'Asking about other subjects needs the access:evaluate permission (a user may always ask about themselves).',
    );
  return subtrees;
}

export class AccessSearch {
  constructor(
    private readonly readModels: ReadModels,
    private readonly roles: RoleCatalog = BUILT_IN_ROLE_CATALOG,
  ) {}

  /**
   * Organizations (ids) where `subject` may do `action`, restricted to `within` (subtree roots; undefined:
   * everywhere), the `limit` first after `after`. An unknown subject holds nothing: empty.
   */
  async resources(
    subject: SearchSubject,
    action: string,
    within: string[] | undefined,
    after: string,
    limit: number,
  ): Promise<string[]> {
    await this.roles.refresh?.();
    const held = await this.heldIn(subject, action);
    if (held === 'all' && within === undefined) return this.readModels.search.orgIdsAfter('all', after, limit);
    const scope = held === 'all' ? { subtreeRoots: within ?? [], orgIds: [] } : await this.restrict(held, within);
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
  ): Promise<Array<{ key: string; id: string }>> {
    await this.roles.refresh?.();
    const ancestors = (await this.readModels.orgs.parents(orgId)).map((o) => o.id);
    const path = [...ancestors, orgId];
    if (type === 'client') {
      const clients = await this.readModels.search.clientsAfter(path, action, after, limit);
      return clients.map((c) => ({ key: c.id, id: c.clientId }));
    }
    const visible = this.roles.visibleAt(orgId, ancestors).filter((r) => grants(r, action));
    const onOrg = visible.map((r) => r.id);
    const fromAbove = visible.filter((r) => r.appliesTo === 'subtree').map((r) => r.id);
    const grantsByOrg = path.map((id) => ({ orgId: id, roles: id === orgId ? onOrg : fromAbove }));
    const ids = await this.readModels.search.userIdsAfter(grantsByOrg, true, after, limit);
    return ids.map((id) => ({ key: id, id }));
  }

  /** Where the subject holds `action`: everywhere, or subtree roots and single organizations. */
  private async heldIn(
    subject: SearchSubject,
    action: string,
  ): Promise<'all' | { subtreeRoots: string[]; orgIds: string[] }> {
    const none = { subtreeRoots: [], orgIds: [] };
    if (subject.type === 'client') {
      const client = await this.readModels.clients.getByClientId(subject.id);
      return client?.scopes.includes(action) ? { subtreeRoots: [client.orgId], orgIds: [] } : none;
    }
    const user = await this.readModels.users.get(subject.id);
    if (user === undefined || user.status !== 'active') return none;
    if (user.platformAdmin) return 'all';
    const out: { subtreeRoots: string[]; orgIds: string[] } = { subtreeRoots: [], orgIds: [] };
    for (const { orgId, roles } of await this.readModels.memberships.membershipRoots(subject.id)) {
      const granting = roles.map((r: RoleId) => this.roles.get(r)).filter((r) => grants(r, action));
      if (granting.some((r) => r?.appliesTo === 'subtree')) out.subtreeRoots.push(orgId);
      else if (granting.length > 0) out.orgIds.push(orgId);
    }
    return out;
  }

  /**
   * The part of `held` inside the subtrees `within` (undefined: all of it): a held root inside a caller's
   * root stays, a caller's root inside a held root stays; single organizations stay when inside a caller's
   * root. Roots that overlap cost nothing more than a duplicate the merge drops.
   */
  private async restrict(
    held: { subtreeRoots: string[]; orgIds: string[] },
    within: string[] | undefined,
  ): Promise<{ subtreeRoots: string[]; orgIds: string[] }> {
    if (within === undefined) return { subtreeRoots: [...new Set(held.subtreeRoots)], orgIds: held.orgIds };
    const lineage = new Map<string, Set<string>>();
    const lineageOf = async (id: string): Promise<Set<string>> => {
      let set = lineage.get(id);
      if (!set) {
        set = new Set([...(await this.readModels.orgs.parents(id)).map((o) => o.id), id]);
        lineage.set(id, set);
      }
      return set;
    };
    const anyWithin = async (id: string, roots: readonly string[]) => {
      const line = await lineageOf(id);
      return roots.some((root) => line.has(root));
    };
    const roots: string[] = [];
    for (const r of held.subtreeRoots) if (await anyWithin(r, within)) roots.push(r);
    for (const c of within) if (await anyWithin(c, held.subtreeRoots)) roots.push(c);
    const singles: string[] = [];
    for (const s of held.orgIds) if (await anyWithin(s, within)) singles.push(s);
    return { subtreeRoots: [...new Set(roots)], orgIds: singles };
  }
}
