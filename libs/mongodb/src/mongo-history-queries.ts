import {
  OPEN_VERSION,
  pastSubtreePage,
  type ApplicationPermissionView,
  type ClientView,
  type HistoryQueries,
  type OrgUserView,
  type OrgView,
  type Page,
  type PageRequest,
  type RoleView,
  type UserMembershipView,
  type UserView,
} from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Filter } from 'mongodb';
import type { ClientVersionDoc, OrgVersionDoc, ReadModelCollections, UserDoc } from './mongo-collections';
import { mergeRoles } from './mongo-membership-queries';
import { ANY_DEPTH, isChildrenKeyset, type ChildrenKeyset } from './mongo-org-queries';
import {
  afterId,
  decodePageCursor,
  emptyPage,
  hasNul,
  isStorable,
  pageLimit,
  toPage,
  type IdKeyset,
} from './mongo-page-cursor';
import { MongoPastSearches, validAt } from './mongo-history-searches';
import { toPermissionView, toRoleView } from './mongo-role-queries';
import { userContains } from './mongo-user-queries';

const toPastOrgView = (v: OrgVersionDoc, depth: number): OrgView => ({
  id: v.key,
  name: v.name,
  parentId: v.parentId,
  description: v.description,
  metadata: JSON.parse(v.metadata) as Record<string, unknown>,
  depth,
  createdAt: v.createdAt,
  updatedAt: v.updatedAt,
  version: v.version,
});

const toPastClientView = (v: ClientVersionDoc): ClientView => ({
  id: v.key,
  clientId: v.clientId,
  name: v.name,
  orgId: v.orgId,
  scopes: v.scopes,
  roles: v.roles,
  rolesGrantedBy: v.rolesGrantedBy,
  createdAt: v.createdAt,
  version: v.version,
});

/**
 * The temporal read model on MongoDB (HistoryQueries), over the `*_versions` collections `recordVersion` writes
 * (mongo-versions.ts): a version by key at P is a range of `versions_key` filtered by `validTo`; the tree at P is
 * walked through the parent links valid at P, one `find` per level.
 */
export class MongoHistoryQueries implements HistoryQueries {
  private readonly searches: MongoPastSearches;

  constructor(private readonly c: ReadModelCollections) {
    this.searches = new MongoPastSearches(c);
  }

  async org(orgId: string, at: number): Promise<OrgView | undefined> {
    if (hasNul(orgId)) return undefined;
    const v = await this.orgAt(orgId, at);
    return v === null ? undefined : toPastOrgView(v, (await this.ancestorsAt(v, at)).length);
  }

  async parents(orgId: string, at: number): Promise<OrgView[]> {
    if (hasNul(orgId)) return [];
    const v = await this.orgAt(orgId, at);
    return v === null ? [] : (await this.ancestorsAt(v, at)).map((a, depth) => toPastOrgView(a, depth));
  }

  /** Level by level (pastSubtreePage), each level one `find` over the parent links of then. */
  async children(orgId: string, at: number, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>> {
    const root = await this.org(orgId, at);
    if (root === undefined) return emptyPage();
    const limit = pageLimit(page);
    const depth = maxDepth === null ? ANY_DEPTH : Math.min(Math.floor(maxDepth), ANY_DEPTH);
    const from: ChildrenKeyset =
      page.cursor === undefined ? { d: 0, k: '', i: '' } : decodePageCursor(page.cursor, isChildrenKeyset);
    const level = (parents: readonly string[]) =>
      this.c.orgVersions
        .find({ parentId: { $in: [...parents] }, ...validAt(at) })
        .sort({ nameKey: 1, key: 1 })
        .toArray();
    const found = await pastSubtreePage<OrgVersionDoc>(
      {
        rows: level,
        ids: async (parents) => (await level(parents)).map((v) => v.key),
        nameKey: (v) => v.nameKey,
        id: (v) => v.key,
      },
      orgId,
      depth,
      from,
      limit + 1,
    );
    return toPage(
      found,
      limit,
      ({ row, distance }) => toPastOrgView(row, root.depth + distance),
      ({ row, distance }): ChildrenKeyset => ({ d: distance, k: row.nameKey, i: row.key }),
    );
  }

  /**
   * Confirmed members then, in user id order: runs of membership versions, joined with the users' versions then
   * (status, version) and today's users (email, name, `q`, erasure).
   */
  async members(
    orgId: string,
    at: number,
    filter: { role?: Role; q?: string },
    page: PageRequest,
  ): Promise<Page<OrgUserView>> {
    let after = afterId(page);
    const limit = pageLimit(page);
    if (hasNul(orgId) || (filter.role !== undefined && hasNul(filter.role))) return emptyPage();
    if (filter.q !== undefined && hasNul(filter.q)) return emptyPage();
    const userFilter: Filter<UserDoc> = filter.q !== undefined && filter.q !== '' ? userContains(filter.q) : {};
    const rows: OrgUserView[] = [];
    for (;;) {
      const run = await this.c.membershipVersions
        .find({
          orgId,
          userId: { $gt: after },
          pending: false,
          ...validAt(at),
          ...(filter.role === undefined ? {} : { roles: filter.role }),
        })
        .sort({ userId: 1 })
        .limit(limit + 1)
        .toArray();
      if (run.length === 0) break;
      const ids = run.map((m) => m.userId);
      const users = new Map(
        (await this.c.users.find({ $and: [{ _id: { $in: ids } }, userFilter] }).toArray()).map((u) => [u._id, u]),
      );
      const then = new Map(
        (await this.c.userVersions.find({ key: { $in: ids }, ...validAt(at) }).toArray()).map((v) => [v.key, v]),
      );
      for (const m of run) {
        const u = users.get(m.userId);
        const v = then.get(m.userId);
        if (u === undefined || v === undefined || rows.length > limit) continue;
        rows.push({
          orgId: m.orgId,
          userId: m.userId,
          email: u.email,
          name: u.name,
          status: u.status === 'erased' ? 'erased' : v.status,
          roles: mergeRoles(m.roles),
          addedAt: m.addedAt,
          version: m.version,
          pending: m.pending,
          userVersion: v.version,
        });
      }
      if (rows.length > limit || run.length <= limit) break;
      after = run[run.length - 1].userId;
    }
    return toPage(
      rows,
      limit,
      (row) => row,
      (row): IdKeyset => ({ i: row.userId }),
    );
  }

  async memberships(userId: string, at: number): Promise<UserMembershipView[]> {
    if (hasNul(userId)) return [];
    const held = await this.c.membershipVersions
      .find({ userId, pending: false, ...validAt(at) })
      .sort({ orgId: 1 })
      .toArray();
    const orgs = await this.orgsAt(
      held.map((m) => m.orgId),
      at,
    );
    return held.flatMap((m) => {
      const org = orgs.get(m.orgId);
      return org === undefined
        ? []
        : [{ orgId: m.orgId, orgName: org.name, roles: mergeRoles(m.roles), addedAt: m.addedAt, pending: m.pending }];
    });
  }

  async membership(
    orgId: string,
    userId: string,
    at: number,
  ): Promise<{ roles: Role[]; pending: boolean } | undefined> {
    if (hasNul(orgId) || hasNul(userId)) return undefined;
    const m = await this.c.membershipVersions.findOne({ orgId, userId, ...validAt(at) });
    return m === null ? undefined : { roles: mergeRoles(m.roles), pending: m.pending };
  }

  async user(userId: string, at: number): Promise<Pick<UserView, 'status' | 'platformAdmin'> | undefined> {
    if (hasNul(userId)) return undefined;
    const v = await this.c.userVersions.findOne({ key: userId, ...validAt(at) });
    return v === null ? undefined : { status: v.status, platformAdmin: v.platformAdmin };
  }

  async orgEndedAt(orgId: string): Promise<number | undefined> {
    if (hasNul(orgId)) return undefined;
    const [last] = await this.c.orgVersions.find({ key: orgId }).sort({ validFrom: -1 }).limit(1).toArray();
    return last === undefined || last.validTo === OPEN_VERSION ? undefined : last.validTo;
  }

  async client(id: string, at: number): Promise<ClientView | undefined> {
    if (hasNul(id)) return undefined;
    const v = await this.c.clientVersions.findOne({ key: id, ...validAt(at) });
    return v === null ? undefined : toPastClientView(v);
  }

  async clientByClientId(clientId: string, at: number): Promise<ClientView | undefined> {
    if (hasNul(clientId)) return undefined;
    const v = await this.c.clientVersions.findOne({ clientId, ...validAt(at) });
    return v === null ? undefined : toPastClientView(v);
  }

  async lastClientByClientId(clientId: string): Promise<{ client: ClientView; endedAt: number | null } | undefined> {
    if (hasNul(clientId)) return undefined;
    const [v] = await this.c.clientVersions.find({ clientId }).sort({ validFrom: -1 }).limit(1).toArray();
    if (v === undefined) return undefined;
    return { client: toPastClientView(v), endedAt: v.validTo === OPEN_VERSION ? null : v.validTo };
  }

  async roles(at: number): Promise<RoleView[]> {
    const versions = await this.c.roleVersions.find(validAt(at)).sort({ key: 1 }).toArray();
    return versions.map((v) => toRoleView({ ...v, _id: v.key, position: 0 }));
  }

  async permissionsOn(orgIds: readonly string[], at: number): Promise<ApplicationPermissionView[]> {
    const ids = [...new Set(orgIds)].filter(isStorable);
    if (ids.length === 0) return [];
    const versions = await this.c.permissionVersions
      .find({ orgId: { $in: ids }, ...validAt(at) })
      .sort({ orgId: 1, name: 1 })
      .toArray();
    return versions.map((v) => toPermissionView({ ...v, _id: v.key, position: 0 }));
  }

  async permissionsNamed(name: string, at: number): Promise<ApplicationPermissionView[]> {
    if (hasNul(name)) return [];
    const versions = await this.c.permissionVersions
      .find({ name, ...validAt(at) })
      .sort({ orgId: 1 })
      .toArray();
    return versions.map((v) => toPermissionView({ ...v, _id: v.key, position: 0 }));
  }

  orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    at: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    return this.searches.orgIdsAfter(scope, at, afterId, limit);
  }

  userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    at: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    return this.searches.userIdsAfter(grants, platformAdmins, at, afterId, limit);
  }

  clientsAfter(
    orgIds: readonly string[],
    scope: string,
    at: number,
    afterId: string,
    limit: number,
    roleGrants?: ReadonlyArray<{ orgId: string; roles: readonly string[] }>,
  ): Promise<Array<{ id: string; clientId: string }>> {
    return this.searches.clientsAfter(orgIds, scope, at, afterId, limit, roleGrants);
  }

  private orgAt(orgId: string, at: number): Promise<OrgVersionDoc | null> {
    return this.c.orgVersions.findOne({ key: orgId, ...validAt(at) });
  }

  /** The organization's ancestors at `at`, root first: one lookup per level up (bounded against a cycle). */
  private async ancestorsAt(v: OrgVersionDoc, at: number): Promise<OrgVersionDoc[]> {
    const up: OrgVersionDoc[] = [];
    const seen = new Set([v.key]);
    for (let parent = v.parentId; parent !== null && !seen.has(parent);) {
      const p = await this.orgAt(parent, at);
      if (p === null) break;
      up.push(p);
      seen.add(p.key);
      parent = p.parentId;
    }
    return up.reverse();
  }

  private async orgsAt(ids: string[], at: number): Promise<Map<string, OrgVersionDoc>> {
    if (ids.length === 0) return new Map();
    const versions = await this.c.orgVersions.find({ key: { $in: ids }, ...validAt(at) }).toArray();
    return new Map(versions.map((v) => [v.key, v]));
  }
}
