import type { AccessSearchQueries } from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Filter } from 'mongodb';
import type { ClientDoc, MembershipDoc, ReadModelCollections } from './mongo-collections';
import { hasNul, isStorable } from './mongo-page-cursor';

/** Grants without roles or with an unstorable organization grant nothing; unstorable role names match nothing. */
const cleanGrants = (grants: ReadonlyArray<{ orgId: string; roles: readonly string[] }>) =>
  grants
    .map((g) => ({ orgId: g.orgId, roles: g.roles.filter(isStorable) }))
    .filter((g) => g.roles.length > 0 && isStorable(g.orgId));

/**
 * The access searches over MongoDB (see AccessSearchQueries): each is a `find` after the keyset, sorted by id and
 * limited to `limit`, on the ranges of `orgs_subtree`/`_id`, `memberships_org` and `clients_org`; what FerretDB
 * cannot join (a member's user must be active) is checked on the run read, and the next run read if the run
 * fell short. Ids compare bytewise, as the SQL adapters' do.
 */
export class MongoAccessSearchQueries implements AccessSearchQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId)) return [];
    let filter: Filter<{ _id: string; ancestors: string[] }> = { _id: { $gt: afterId } };
    if (scope !== 'all') {
      const roots = scope.subtreeRoots.filter(isStorable);
      const singles = scope.orgIds.filter(isStorable);
      if (roots.length === 0 && singles.length === 0) return [];
      filter = { ...filter, $or: [{ _id: { $in: [...roots, ...singles] } }, { ancestors: { $in: roots } }] };
    }
    const docs = await this.c.orgs
      .find(filter, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => doc._id);
  }

  async userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId) || limit < 1) return [];
    const found = new Set<string>();
    const granted = cleanGrants(grants);
    if (granted.length > 0) {
      const byGrant: Filter<MembershipDoc> = {
        pending: false,
        $or: granted.map((g) => ({ orgId: g.orgId, roles: { $in: g.roles } })),
      };
      // Runs of memberships in user id order, until `limit` active users or the end.
      for (let after = afterId; found.size < limit;) {
        const run = await this.c.memberships
          .find({ ...byGrant, userId: { $gt: after } }, { projection: { userId: 1 } })
          .sort({ userId: 1 })
          .limit(limit)
          .toArray();
        if (run.length === 0) break;
        const active = await this.c.users
          .find({ _id: { $in: run.map((m) => m.userId) }, status: 'active' }, { projection: { _id: 1 } })
          .toArray();
        const ok = new Set(active.map((u) => u._id));
        for (const m of run) if (ok.has(m.userId) && found.size < limit) found.add(m.userId);
        if (run.length < limit) break;
        after = run[run.length - 1].userId;
      }
    }
    if (platformAdmins) {
      const admins = await this.c.users
        .find({ platformAdmin: true, status: 'active', _id: { $gt: afterId } }, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      for (const u of admins) found.add(u._id);
    }
    return [...found].sort(byCodeUnits).slice(0, limit);
  }

  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    afterId: string,
    limit: number,
    roleGrants: ReadonlyArray<{ orgId: string; roles: readonly string[] }> = [],
  ): Promise<Array<{ id: string; clientId: string }>> {
    if (hasNul(afterId) || hasNul(scope)) return [];
    const orgs = orgIds.filter(isStorable);
    const either: Array<Filter<ClientDoc>> = cleanGrants(roleGrants).map((g) => ({
      orgId: g.orgId,
      roles: { $in: g.roles },
    }));
    if (orgs.length > 0) either.push({ orgId: { $in: orgs }, scopes: scope });
    if (either.length === 0) return [];
    const docs = await this.c.clients
      .find({ _id: { $gt: afterId }, $or: either }, { projection: { _id: 1, clientId: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({ id: doc._id, clientId: doc.clientId }));
  }
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
