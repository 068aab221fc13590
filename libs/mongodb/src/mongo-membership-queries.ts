import type {
  AccessQuestionFacts,
  AccessQuestionKey,
  MembershipQueries,
  OrgUserView,
  Page,
  PageRequest,
  UserMembershipView,
} from '@arbor/application';
import { normaliseRoles, type Role } from '@arbor/domain';
import type { Filter } from 'mongodb';
import type { MembershipDoc, OrgDoc, ReadModelCollections, UserDoc } from './mongo-collections';
import { membershipId } from './mongo-collections';
import { afterId, emptyPage, hasNul, isStorable, pageLimit, toPage, type IdKeyset } from './mongo-page-cursor';
import { userContains } from './mongo-user-queries';

/** Role ids of one or more memberships, merged, deduplicated and in canonical order (normaliseRoles). */
export const mergeRoles = (...lists: string[][]): Role[] => normaliseRoles(lists.flat() as Role[]);

export const toOrgUserView = (m: MembershipDoc, u: UserDoc): OrgUserView => ({
  orgId: m.orgId,
  userId: m.userId,
  email: u.email,
  name: u.name,
  status: u.status,
  roles: mergeRoles(m.roles),
  addedAt: m.addedAt,
  version: m.version,
  pending: m.pending,
  userVersion: u.version,
});

/** An organization and the ids whose memberships count on it: its ancestors and itself (inheritance). */
const selfAndAncestors = (org: Pick<OrgDoc, '_id' | 'ancestors'>): string[] => [...org.ancestors, org._id];

/**
 * Membership queries. FerretDB refuses `$lookup`, so what the SQL adapters join is read in a second `find` by
 * `_id` and joined here; as there, a membership whose user (or, for a user's list, whose organization) has no
 * document is left out.
 */
export class MongoMembershipQueries implements MembershipQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async get(
    orgId: string,
    userId: string,
    options: { includePending?: boolean } = {},
  ): Promise<OrgUserView | undefined> {
    if (hasNul(orgId) || hasNul(userId)) return undefined;
    const m = await this.c.memberships.findOne({ _id: membershipId(orgId, userId) });
    if (m === null || (m.pending && !options.includePending)) return undefined;
    const u = await this.c.users.findOne({ _id: userId });
    return u === null ? undefined : toOrgUserView(m, u);
  }

  /**
   * Direct members in user id order, from `memberships_org`; `q` is checked on the users, read by `_id` for each
   * run of memberships, so a page may take more than one run when `q` leaves members out.
   */
  async listByOrg(
    orgId: string,
    filter: { role?: Role; q?: string; pending?: boolean },
    page: PageRequest,
  ): Promise<Page<OrgUserView>> {
    let after = afterId(page);
    const limit = pageLimit(page);
    if (hasNul(orgId) || (filter.role !== undefined && hasNul(filter.role))) return emptyPage();
    if (filter.q !== undefined && hasNul(filter.q)) return emptyPage();
    const userFilter: Filter<UserDoc> = filter.q !== undefined && filter.q !== '' ? userContains(filter.q) : {};
    const rows: Array<[MembershipDoc, UserDoc]> = [];
    for (;;) {
      const run = await this.c.memberships
        .find({
          orgId,
          userId: { $gt: after },
          pending: filter.pending === true,
          ...(filter.role === undefined ? {} : { roles: filter.role }),
        })
        .sort({ userId: 1 })
        .limit(limit + 1)
        .toArray();
      if (run.length === 0) break;
      const users = await this.c.users
        .find({ $and: [{ _id: { $in: run.map((m) => m.userId) } }, userFilter] })
        .toArray();
      const byId = new Map(users.map((u) => [u._id, u]));
      for (const m of run) {
        const u = byId.get(m.userId);
        if (u !== undefined && rows.length <= limit) rows.push([m, u]);
      }
      if (rows.length > limit || run.length <= limit) break;
      after = run[run.length - 1].userId;
    }
    return toPage(
      rows,
      limit,
      ([m, u]) => toOrgUserView(m, u),
      ([m]): IdKeyset => ({ i: m.userId }),
    );
  }

  /** A user has few memberships: read them all (in organization id order), then their organizations. */
  async listByUser(
    userId: string,
    filter: { withinSubtreesOf?: string[]; withinOrgs?: string[]; includePending?: boolean },
  ): Promise<UserMembershipView[]> {
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const roots = new Set((filter.withinSubtreesOf ?? []).filter(isStorable));
    const singles = new Set(filter.withinOrgs ?? []);
    if ((scoped && roots.size === 0 && singles.size === 0) || hasNul(userId)) return [];
    const pendingToo = filter.includePending === true && !scoped;
    const memberships = await this.userMemberships(userId, pendingToo);
    const orgs = await this.orgsById(memberships.map((m) => m.orgId));
    return memberships.flatMap((m) => {
      const org = orgs.get(m.orgId);
      if (org === undefined) return [];
      if (scoped && !singles.has(org._id) && !selfAndAncestors(org).some((id) => roots.has(id))) return [];
      return [
        { orgId: m.orgId, orgName: org.name, roles: mergeRoles(m.roles), addedAt: m.addedAt, pending: m.pending },
      ];
    });
  }

  /** The organization's array, then the confirmed memberships on it and its ancestors: two indexed reads. */
  async effectiveRoles(userId: string, orgId: string): Promise<Role[]> {
    if (hasNul(userId) || hasNul(orgId)) return [];
    const org = await this.c.orgs.findOne({ _id: orgId }, { projection: { ancestors: 1 } });
    if (org === null) return [];
    const held = await this.c.memberships
      .find({ userId, orgId: { $in: selfAndAncestors(org) }, pending: false }, { projection: { roles: 1 } })
      .toArray();
    return mergeRoles(...held.map((m) => m.roles));
  }

  async membershipRoots(userId: string): Promise<Array<{ orgId: string; roles: Role[] }>> {
    if (hasNul(userId)) return [];
    const memberships = await this.userMemberships(userId, false);
    const orgs = await this.orgsById(memberships.map((m) => m.orgId));
    return memberships.filter((m) => orgs.has(m.orgId)).map((m) => ({ orgId: m.orgId, roles: mergeRoles(m.roles) }));
  }

  /**
   * Three reads whatever the number of pairs: the organizations and the users by `_id`, and the confirmed
   * memberships of those users; each pair's roles are those on its organization's ancestors and itself.
   */
  async accessQuestions(pairs: ReadonlyArray<AccessQuestionKey>): Promise<AccessQuestionFacts[]> {
    if (pairs.length === 0) return [];
    const orgIds = [...new Set(pairs.map((p) => p.orgId).filter(isStorable))];
    const userIds = [...new Set(pairs.map((p) => p.userId).filter(isStorable))];
    const orgs = await this.orgsById(orgIds);
    const users = new Map(
      (await this.c.users.find({ _id: { $in: userIds } }).toArray()).map((u) => [u._id, u] as const),
    );
    const held = new Map<string, string[]>();
    const memberships =
      userIds.length === 0 ? [] : await this.c.memberships.find({ userId: { $in: userIds }, pending: false }).toArray();
    for (const m of memberships) held.set(m._id, m.roles);
    return pairs.map((pair) => {
      const org = orgs.get(pair.orgId);
      const user = pair.userId === null ? undefined : users.get(pair.userId);
      const roles =
        org === undefined || pair.userId === null
          ? []
          : mergeRoles(...selfAndAncestors(org).map((id) => held.get(membershipId(id, pair.userId!)) ?? []));
      return {
        org: org === undefined ? undefined : { id: org._id, parentId: org.parentId },
        user: user === undefined ? undefined : { status: user.status, platformAdmin: user.platformAdmin },
        roles,
      };
    });
  }

  private userMemberships(userId: string, pendingToo: boolean): Promise<MembershipDoc[]> {
    return this.c.memberships
      .find({ userId, ...(pendingToo ? {} : { pending: false }) })
      .sort({ orgId: 1 })
      .toArray();
  }

  private async orgsById(ids: string[]): Promise<Map<string, OrgDoc>> {
    if (ids.length === 0) return new Map();
    const docs = await this.c.orgs.find({ _id: { $in: ids } }).toArray();
    return new Map(docs.map((doc) => [doc._id, doc]));
  }
}
