import { normaliseRoles, type Role, type RoleCatalog } from '@arbor/domain';
import type { AccessFacts } from '../auth/access-facts';
import { AccessPolicy } from '../auth/access-policy';
import type { AccessSearchReads } from '../auth/access-search';
import { ReadModelRoleCatalog } from '../auth/read-model-role-catalog';
import type { HistoryQueries } from '../ports/history-queries';
import type { OrgView } from '../ports/read-models';

/**
 * Which of an organization's ancestors of then a caller's answer may count (`orgId`, then `ancestorIds` as they were,
 * root first): for a caller who is not a platform admin, those that today's grants show them (an organization moved
 * in from another tenant's tree does not bring that tree's grants into their answers); undefined: all of them.
 */
export type PastLineageFilter = (orgId: string, ancestorIds: string[]) => Promise<string[]>;

/**
 * An organization's ancestors at `at` (root first, as HistoryQueries.parents answers them; [] for one that did not
 * exist then), as far as `shown` lets them count: what past decisions, searches and the past role list all read, so
 * what a caller is told a role of then grants is what a decision of then counts. Errors are the reads' (storage).
 */
export async function ancestorsAt(
  history: HistoryQueries,
  at: number,
  orgId: string,
  shown: PastLineageFilter | undefined,
): Promise<OrgView[]> {
  const parents = await history.parents(orgId, at);
  if (shown === undefined) return parents;
  const kept = new Set(
    await shown(
      orgId,
      parents.map((o) => o.id),
    ),
  );
  return parents.filter((o) => kept.has(o.id));
}

/**
 * The access facts as they were when the log ended at `at` (issue 14, point in time): what AccessPolicy reads to
 * decide, from the temporal read model, so a decision of the past is made by the same core as today's
 * (contract section 4), over the tree, memberships, clients and application permissions of then; with `shown`,
 * only through the ancestors it keeps (PastLineageFilter). Each method is a few indexed reads (the ancestors walk one
 * level per read, inside one statement).
 */
export function accessFactsAt(history: HistoryQueries, at: number, shown?: PastLineageFilter): AccessFacts<OrgView> {
  const ancestorIds = async (orgId: string) => (await ancestorsAt(history, at, orgId, shown)).map((o) => o.id);
  return {
    org: (orgId) => history.org(orgId, at),
    ancestorIds,
    // No membership of then lies on an organization that did not exist then (its deletion ended them), so an unknown
    // organization needs no check of its own: its chain holds only itself, and no membership matches.
    effectiveRoles: async (userId, orgId) => {
      const chain = new Set([...(await ancestorIds(orgId)), orgId]);
      const held: Role[] = [];
      for (const m of await history.memberships(userId, at)) if (chain.has(m.orgId)) held.push(...m.roles);
      return normaliseRoles(held);
    },
    membershipRoots: async (userId) =>
      (await history.memberships(userId, at)).map((m) => ({ orgId: m.orgId, roles: m.roles })),
    directRoles: async (orgId, userId) => (await history.membership(orgId, userId, at))?.roles,
    isPendingMember: async (orgId, userId) => (await history.membership(orgId, userId, at))?.pending === true,
    clientOrg: async (id) => (await history.client(id, at))?.orgId,
    clientRoles: async (id) => (await history.client(id, at))?.roles,
    isPlatformAdminUser: async (userId) => (await history.user(userId, at))?.platformAdmin === true,
    applicationPermissionsAt: async (orgId) =>
      (await history.permissionsOn([...(await ancestorIds(orgId)), orgId], at)).map((p) => p.name),
  };
}

/** The role catalog of then: the built-in roles and every custom role as defined at `at`, loaded once. */
export async function roleCatalogAt(history: HistoryQueries, at: number): Promise<RoleCatalog> {
  const catalog = new ReadModelRoleCatalog({ all: () => history.roles(at), catalogPosition: async () => at });
  await catalog.refresh();
  return catalog;
}

/** AccessPolicy over the facts and role definitions of then (accessFactsAt, roleCatalogAt). */
export async function accessPolicyAt(
  history: HistoryQueries,
  at: number,
  shown?: PastLineageFilter,
): Promise<AccessPolicy<OrgView>> {
  return new AccessPolicy(accessFactsAt(history, at, shown), await roleCatalogAt(history, at));
}

/**
 * What AccessSearch reads, as it was at `at`: its searches then answer over the tree and grants of then (with
 * `shown`, through the ancestors it keeps, as accessFactsAt).
 */
export function accessSearchReadsAt(history: HistoryQueries, at: number, shown?: PastLineageFilter): AccessSearchReads {
  return {
    search: {
      orgIdsAfter: (scope, afterId, limit) => history.orgIdsAfter(scope, at, afterId, limit),
      userIdsAfter: (grants, platformAdmins, afterId, limit) =>
        history.userIdsAfter(grants, platformAdmins, at, afterId, limit),
      clientsAfter: (orgIds, scope, afterId, limit, roleGrants) =>
        history.clientsAfter(orgIds, scope, at, afterId, limit, roleGrants),
    },
    orgs: { parents: (orgId) => ancestorsAt(history, at, orgId, shown) },
    roles: { permissionsNamed: (name) => history.permissionsNamed(name, at) },
    clients: { getByClientId: (clientId) => history.clientByClientId(clientId, at) },
    users: { get: (userId) => history.user(userId, at) },
    memberships: {
      membershipRoots: async (userId) =>
        (await history.memberships(userId, at)).map((m) => ({ orgId: m.orgId, roles: m.roles })),
    },
  };
}
