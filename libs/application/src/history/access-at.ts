import { normaliseRoles, type Role, type RoleCatalog } from '@arbor/domain';
import type { AccessFacts } from '../auth/access-facts';
import { AccessPolicy } from '../auth/access-policy';
import { ReadModelRoleCatalog } from '../auth/read-model-role-catalog';
import type { HistoryQueries } from '../ports/history-queries';
import type { OrgView } from '../ports/read-models';

/**
 * The access facts as they were when the log ended at `at` (issue 14, point in time): what AccessPolicy reads to
 * decide, from the temporal read model, so a decision of the past is made by the same core as today's
 * (contract section 4), over the tree, memberships, clients and application permissions of then. Each method is a
 * few indexed reads (the ancestors walk one level per read, inside one statement).
 */
export function accessFactsAt(history: HistoryQueries, at: number): AccessFacts<OrgView> {
  const ancestorIds = async (orgId: string) => (await history.parents(orgId, at)).map((o) => o.id);
  return {
    org: (orgId) => history.org(orgId, at),
    ancestorIds,
    effectiveRoles: async (userId, orgId) => {
      if ((await history.org(orgId, at)) === undefined) return [];
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
export async function accessPolicyAt(history: HistoryQueries, at: number): Promise<AccessPolicy<OrgView>> {
  return new AccessPolicy(accessFactsAt(history, at), await roleCatalogAt(history, at));
}
