import type { OrgListFilter, OrgQueries, OrgView, Page, PageRequest } from '@arbor/application';
import { nameKey } from '@arbor/domain';
import type { Filter } from 'mongodb';
import type { OrgDoc, ReadModelCollections } from './mongo-collections';
import {
  afterId,
  containsRegex,
  decodePageCursor,
  emptyPage,
  hasNul,
  isRecord,
  isStorable,
  pageLimit,
  toPage,
  type IdKeyset,
} from './mongo-page-cursor';

/** Keyset of `children`: the last row's (distance, name key, id), as in the SQL adapters. */
export interface ChildrenKeyset {
  d: number;
  k: string;
  i: string;
}

/** Deeper than any tree can be: "all descendants" as a depth bound (the SQL adapters' bound too). */
export const ANY_DEPTH = 2 ** 31 - 1;

export const isChildrenKeyset = (v: unknown): v is ChildrenKeyset =>
  isRecord(v) &&
  Number.isSafeInteger(v.d) &&
  (v.d as number) >= 1 &&
  (v.d as number) <= ANY_DEPTH &&
  isStorable(v.k) &&
  isStorable(v.i);

export const toOrgView = (doc: OrgDoc): OrgView => ({
  id: doc._id,
  name: doc.name,
  parentId: doc.parentId,
  description: doc.description,
  metadata: JSON.parse(doc.metadata) as Record<string, unknown>,
  depth: doc.depth,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  version: doc.version,
});

/**
 * The scope filter of lists (organizations, or what refers to them through `field`): inside one of the
 * subtrees `roots` (the root itself or a document whose `ancestors` hold it) or one of `singles`.
 */
export function orgScope(roots: string[], singles: string[]): Filter<OrgDoc> {
  return { $or: [{ _id: { $in: [...roots, ...singles] } }, { ancestors: { $in: roots } }] };
}

/**
 * Organization queries. A page is one `find` of `limit + 1` documents (the extra one only tells whether a next
 * page exists) with keyset pagination: the sort and the range are those of an index (`orgs_subtree`,
 * `orgs_parent`, `_id`), never an offset. FerretDB 1.24 does not push array-index ranges down: there they scan,
 * with the same results.
 */
export class MongoOrgQueries implements OrgQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async get(id: string): Promise<OrgView | undefined> {
    if (hasNul(id)) return undefined;
    const doc = await this.c.orgs.findOne({ _id: id });
    return doc === null ? undefined : toOrgView(doc);
  }

  /** Organizations in id order (ids are time-sortable: creation order), filtered per document. */
  async list(filter: OrgListFilter, page: PageRequest): Promise<Page<OrgView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const conditions: Array<Filter<OrgDoc>> = [{ _id: { $gt: after } }];
    if (filter.q !== undefined && filter.q !== '') {
      if (hasNul(filter.q)) return emptyPage();
      conditions.push({ nameKey: { $regex: containsRegex(nameKey(filter.q)) } });
    }
    if (filter.parentId !== undefined) {
      if (filter.parentId !== null && hasNul(filter.parentId)) return emptyPage();
      conditions.push({ parentId: filter.parentId });
    }
    if (filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined) {
      const roots = [...new Set(filter.withinSubtreesOf ?? [])].filter(isStorable);
      const singles = [...new Set(filter.withinOrgs ?? [])].filter(isStorable);
      if (roots.length === 0 && singles.length === 0) return emptyPage();
      conditions.push(orgScope(roots, singles));
    }
    const docs = await this.c.orgs
      .find({ $and: conditions })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    return toPage(docs, limit, toOrgView, (doc): IdKeyset => ({ i: doc._id }));
  }

  /**
   * Descendants at most `maxDepth` below, in (distance, name key, id) order: one range of `orgs_subtree`, since
   * a descendant's distance is its depth minus the organization's (one read by `_id` first).
   */
  async children(id: string, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>> {
    const limit = pageLimit(page);
    const bound = maxDepth === null ? ANY_DEPTH : Math.min(Math.floor(maxDepth), ANY_DEPTH);
    const from = page.cursor === undefined ? undefined : decodePageCursor(page.cursor, isChildrenKeyset);
    if (hasNul(id) || Number.isNaN(bound) || bound < 1) return emptyPage();
    const org = await this.c.orgs.findOne({ _id: id }, { projection: { depth: 1 } });
    if (org === null) return emptyPage();
    const base = org.depth;
    const range: Filter<OrgDoc> =
      from === undefined
        ? {}
        : {
            $or: [
              { depth: { $gt: base + from.d } },
              { depth: base + from.d, nameKey: { $gt: from.k } },
              { depth: base + from.d, nameKey: from.k, _id: { $gt: from.i } },
            ],
          };
    const docs = await this.c.orgs
      .find({ ancestors: id, depth: { $lte: base + bound }, ...range })
      .sort({ depth: 1, nameKey: 1, _id: 1 })
      .limit(limit + 1)
      .toArray();
    return toPage(docs, limit, toOrgView, (doc): ChildrenKeyset => ({
      d: doc.depth - base,
      k: doc.nameKey,
      i: doc._id,
    }));
  }

  /** Root first, the direct parent last: the documents named by the array, by `_id`. */
  async parents(id: string): Promise<OrgView[]> {
    if (hasNul(id)) return [];
    const org = await this.c.orgs.findOne({ _id: id }, { projection: { ancestors: 1 } });
    if (org === null || org.ancestors.length === 0) return [];
    const docs = await this.c.orgs.find({ _id: { $in: org.ancestors } }).toArray();
    const byId = new Map(docs.map((doc) => [doc._id, doc]));
    return org.ancestors.flatMap((ancestor) => {
      const doc = byId.get(ancestor);
      return doc === undefined ? [] : [toOrgView(doc)];
    });
  }

  /** The document's own `ancestors` array (root first), which `parents` resolves. */
  async ancestorIds(id: string): Promise<string[]> {
    if (hasNul(id)) return [];
    const org = await this.c.orgs.findOne({ _id: id }, { projection: { ancestors: 1 } });
    return org === null ? [] : [...org.ancestors];
  }
}
