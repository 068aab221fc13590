import type { Role } from '@arbor/domain';
import type { Filter } from 'mongodb';
import type { ClientVersionDoc, MembershipVersionDoc, ReadModelCollections } from './mongo-collections';
import { hasNul, isStorable } from './mongo-page-cursor';

/** "Valid at `p`": the version's range [validFrom, validTo) holds the position. */
export const validAt = (p: number) => ({ validFrom: { $lte: p }, validTo: { $gt: p } });

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The access searches at a past position (HistoryQueries.orgIdsAfter, userIdsAfter, clientsAfter), over the
 * versions valid then: the same keyset contract as the present's (at most `limit` ids above `afterId`, ascending).
 */
export class MongoPastSearches {
  constructor(private readonly c: ReadModelCollections) {}

  /** A subtree scope walks the whole subtree of then (one `find` per level), as the SQL adapters do. */
  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    at: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId)) return [];
    if (scope === 'all') {
      const versions = await this.c.orgVersions
        .find({ key: { $gt: afterId }, ...validAt(at) }, { projection: { key: 1 } })
        .sort({ key: 1 })
        .limit(limit)
        .toArray();
      return versions.map((v) => v.key);
    }
    const found = new Set<string>();
    const starts = [...scope.subtreeRoots, ...scope.orgIds].filter(isStorable);
    const existing = await this.c.orgVersions.find({ key: { $in: starts }, ...validAt(at) }).toArray();
    const roots = new Set(scope.subtreeRoots);
    let frontier = existing.filter((v) => roots.has(v.key)).map((v) => v.key);
    for (const v of existing) found.add(v.key);
    while (frontier.length > 0) {
      const level = await this.c.orgVersions
        .find({ parentId: { $in: frontier }, ...validAt(at) }, { projection: { key: 1 } })
        .toArray();
      frontier = level.map((v) => v.key).filter((id) => !found.has(id));
      for (const id of frontier) found.add(id);
    }
    return [...found]
      .filter((id) => id > afterId)
      .sort(byCodeUnits)
      .slice(0, limit);
  }

  async userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    at: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId) || limit < 1) return [];
    const found = new Set<string>();
    const granted = grants
      .map((g) => ({ orgId: g.orgId, roles: g.roles.filter(isStorable) }))
      .filter((g) => g.roles.length > 0 && isStorable(g.orgId));
    if (granted.length > 0) {
      const byGrant: Filter<MembershipVersionDoc> = {
        pending: false,
        ...validAt(at),
        $or: granted.map((g) => ({ orgId: g.orgId, roles: { $in: g.roles } })),
      };
      for (let after = afterId; found.size < limit;) {
        const run = await this.c.membershipVersions
          .find({ ...byGrant, userId: { $gt: after } }, { projection: { userId: 1 } })
          .sort({ userId: 1 })
          .limit(limit)
          .toArray();
        if (run.length === 0) break;
        const active = await this.c.userVersions
          .find(
            { key: { $in: run.map((m) => m.userId) }, status: 'active', ...validAt(at) },
            { projection: { key: 1 } },
          )
          .toArray();
        const ok = new Set(active.map((v) => v.key));
        for (const m of run) if (ok.has(m.userId) && found.size < limit) found.add(m.userId);
        if (run.length < limit) break;
        after = run[run.length - 1].userId;
      }
    }
    if (platformAdmins) {
      const admins = await this.c.userVersions
        .find(
          { platformAdmin: true, status: 'active', key: { $gt: afterId }, ...validAt(at) },
          { projection: { key: 1 } },
        )
        .sort({ key: 1 })
        .limit(limit)
        .toArray();
      for (const v of admins) found.add(v.key);
    }
    return [...found].sort(byCodeUnits).slice(0, limit);
  }

  /** Clients of then on `orgIds` holding `scope`, or a role grant's role on their organization. */
  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    at: number,
    afterId: string,
    limit: number,
    roleGrants: ReadonlyArray<{ orgId: string; roles: readonly string[] }> = [],
  ): Promise<Array<{ id: string; clientId: string }>> {
    if (hasNul(afterId) || hasNul(scope)) return [];
    const orgs = [...new Set(orgIds)].filter(isStorable);
    if (orgs.length === 0) return [];
    const either: Array<Filter<ClientVersionDoc>> = [{ scopes: scope }];
    for (const g of roleGrants) {
      const roles = g.roles.filter(isStorable);
      if (roles.length > 0 && isStorable(g.orgId)) either.push({ orgId: g.orgId, roles: { $in: roles } });
    }
    const versions = await this.c.clientVersions
      .find({ orgId: { $in: orgs }, key: { $gt: afterId }, ...validAt(at), $or: either })
      .sort({ key: 1 })
      .limit(limit)
      .toArray();
    return versions.map((v) => ({ id: v.key, clientId: v.clientId }));
  }
}
