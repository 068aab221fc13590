import {
  accountForEmail,
  type Page,
  type PageRequest,
  type UserListFilter,
  type UserQueries,
  type UserView,
} from '@arbor/application';
import { caselessKey } from '@arbor/domain';
import type { Filter } from 'mongodb';
import type { ReadModelCollections, UserDoc } from './mongo-collections';
import {
  afterId,
  containsRegex,
  emptyPage,
  hasNul,
  isStorable,
  pageLimit,
  toPage,
  type IdKeyset,
} from './mongo-page-cursor';
import { orgScope } from './mongo-org-queries';

export const toUserView = (doc: UserDoc): UserView => ({
  id: doc._id,
  email: doc.email,
  name: doc.name,
  status: doc.status,
  platformAdmin: doc.platformAdmin,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  version: doc.version,
  sessionsNotBefore: doc.sessionsNotBefore,
  keptSessionId: doc.keptSessionId,
});

/** "email or name contains `q`" on the case-folded keys; erased users have null keys, which match no regex. */
export const userContains = (q: string): Filter<UserDoc> => {
  const pattern = containsRegex(caselessKey(q));
  return { $or: [{ emailKey: { $regex: pattern } }, { nameKey: { $regex: pattern } }] };
};

/**
 * The ids of the organizations inside a scope (whole subtrees `roots`, single organizations `singles`): the
 * first step of a scoped user or membership query, since FerretDB refuses `$lookup`. Its cost grows with the
 * scope's size, not the page's (the SQL adapters' joins do not); fine for correctness, named in the README.
 */
export async function orgIdsInScope(c: ReadModelCollections, roots: string[], singles: string[]): Promise<string[]> {
  const docs = await c.orgs.find(orgScope(roots, singles), { projection: { _id: 1 } }).toArray();
  return docs.map((doc) => doc._id);
}

export class MongoUserQueries implements UserQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async get(id: string): Promise<UserView | undefined> {
    if (hasNul(id)) return undefined;
    const doc = await this.c.users.findOne({ _id: id });
    return doc === null ? undefined : toUserView(doc);
  }

  /** `emailKey` is not unique: old logs may hold a few accounts under one key (accountForEmail picks). */
  async findByEmail(email: string): Promise<UserView | undefined> {
    if (hasNul(email)) return undefined;
    const docs = await this.c.users
      .find({ emailKey: caselessKey(email) })
      .sort({ _id: 1 })
      .limit(16)
      .toArray();
    return accountForEmail(docs.map(toUserView), email);
  }

  /**
   * Users in id order. Scoped: users with a confirmed membership on an organization of the scope, whose ids are
   * read first (`orgIdsInScope`, then the memberships' distinct user ids); the page is then one `find` by `_id`.
   */
  async list(filter: UserListFilter, page: PageRequest): Promise<Page<UserView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const conditions: Array<Filter<UserDoc>> = [{ _id: { $gt: after } }];
    if (filter.q !== undefined && filter.q !== '') {
      if (hasNul(filter.q)) return emptyPage();
      conditions.push(userContains(filter.q));
    }
    if (filter.email !== undefined) {
      if (hasNul(filter.email)) return emptyPage();
      conditions.push({ emailKey: caselessKey(filter.email) });
    }
    if (filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined) {
      const roots = (filter.withinSubtreesOf ?? []).filter(isStorable);
      const singles = (filter.withinOrgs ?? []).filter(isStorable);
      if (roots.length === 0 && singles.length === 0) return emptyPage();
      const orgIds = await orgIdsInScope(this.c, roots, singles);
      const userIds = (await this.c.memberships.distinct('userId', {
        orgId: { $in: orgIds },
        pending: false,
        userId: { $gt: after },
      })) as string[];
      conditions.push({ _id: { $in: userIds } });
    }
    const docs = await this.c.users
      .find({ $and: conditions })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    return toPage(docs, limit, toUserView, (doc): IdKeyset => ({ i: doc._id }));
  }
}
