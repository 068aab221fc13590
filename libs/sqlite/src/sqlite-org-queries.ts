import {
  deepFreeze,
  VersionedCache,
  type OrgListFilter,
  type OrgQueries,
  type OrgView,
  type Page,
  type PageRequest,
} from '@arbor/application';
import { nameKey } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import {
  afterId,
  decodePageCursor,
  emptyPage,
  hasNul,
  isKeyText,
  isRecord,
  pageLimit,
  toPage,
  type IdKeyset,
} from './page-cursor';
import { ORG_COLUMNS, toOrgView, type OrgTuple } from './read-model-rows';
import { StatementCache } from './statement-cache';

/** Keyset of `children`: the last row's position in (distance, name key, id) order. */
export interface ChildrenKeyset {
  d: number;
  k: string;
  i: string;
}

/** Deeper than any tree can be: "all descendants" as a depth bound, so one statement serves both cases. */
export const ANY_DEPTH = 2 ** 31 - 1;

export const isChildrenKeyset = (v: unknown): v is ChildrenKeyset =>
  isRecord(v) &&
  Number.isSafeInteger(v.d) &&
  (v.d as number) >= 1 &&
  (v.d as number) <= ANY_DEPTH &&
  isKeyText(v.k) &&
  isKeyText(v.i);

/** An organization, then its distance from the ancestor and its name key (the page keyset). */
type ChildTuple = [...OrgTuple, distance: number, nameKey: string];

export interface SubtreeCacheOptions {
  /** The read models' checkpoint: the version of everything these queries read. */
  version: () => number;
  /** Children pages and parent lists kept (LRU); 0 keeps none. */
  entries: number;
}

/**
 * Organization queries. A page is one query (one per root for a scoped `list`) fetching `limit + 1` rows
 * (the extra row only tells whether a next page exists), with keyset pagination that resumes through an
 * index seek, never an offset.
 *
 * Children pages and parent lists, the costly reads (a 50-row page is ~550 column values to marshal), are
 * read far more often than the tree changes: they are also kept in a `VersionedCache` under the read models'
 * checkpoint, so any projected event makes them stale. Cached results are frozen and shared.
 */
export class SqliteOrgQueries implements OrgQueries {
  private readonly byId: Statement<[string], OrgTuple>;
  private readonly firstDescendants: Statement<[string, number, number], ChildTuple>;
  private readonly nextDescendants: Statement<[string, number, number, string, string, number], ChildTuple>;
  private readonly ancestors: Statement<[string], OrgTuple>;
  private readonly ancestorIdsOf: Statement<[string], string>;
  /** `list` statements by SQL text: one per combination of filters present, so at most 14. */
  private readonly lists: StatementCache;
  private readonly subtrees: VersionedCache<Page<OrgView> | OrgView[] | readonly string[]>;
  private readonly version: () => number;

  constructor(db: SqliteDatabase, cache: SubtreeCacheOptions) {
    this.subtrees = new VersionedCache(cache.entries);
    this.version = cache.version;
    this.lists = new StatementCache(db);
    this.byId = db.prepare<[string], OrgTuple>(`SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.id = ?`).raw(true);
    // Both are one range scan of org_closure_children, no sort. The first page starts at distance 1 (past
    // the self row); later pages seek to the row-value keyset, whose distance is always >= 1. (Adding
    // `distance > 0` to the second would make SQLite bound the scan by it instead of by the keyset.)
    const descendantsSql = (range: string): string =>
      `SELECT ${ORG_COLUMNS}, c.distance, c.d_name_key
       FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
       WHERE c.ancestor_id = ? AND ${range}
       ORDER BY c.distance, c.d_name_key, c.descendant_id
       LIMIT ?`;
    this.firstDescendants = db
      .prepare<[string, number, number], ChildTuple>(descendantsSql('c.distance BETWEEN 1 AND ?'))
      .raw(true);
    this.nextDescendants = db
      .prepare<[string, number, number, string, string, number], ChildTuple>(
        descendantsSql('c.distance <= ? AND (c.distance, c.d_name_key, c.descendant_id) > (?, ?, ?)'),
      )
      .raw(true);
    // Only the closure's covering index (descendant, distance; the primary key carries the ancestor).
    this.ancestorIdsOf = db
      .prepare<[string], string>(
        'SELECT c.ancestor_id FROM org_closure c WHERE c.descendant_id = ? AND c.distance > 0 ORDER BY c.distance DESC',
      )
      .pluck();
    this.ancestors = db
      .prepare<[string], OrgTuple>(
        `SELECT ${ORG_COLUMNS}
         FROM org_closure c JOIN orgs o ON o.id = c.ancestor_id
         WHERE c.descendant_id = ? AND c.distance > 0
         ORDER BY c.distance DESC`,
      )
      .raw(true);
  }

  async get(id: string): Promise<OrgView | undefined> {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toOrgView(row);
  }

  /**
   * Organizations in id order. With `withinSubtreesOf` and no `parentId`, each root's descendants are
   * read in id order from the closure's primary key (ancestor_id, descendant_id), at most `limit + 1` per
   * root, and merged here: a page costs O(roots x limit) whatever the subtrees' sizes. Otherwise one scan
   * of `orgs` (by `orgs_parent` when `parentId` is given), checking scope per row through the same key.
   * `withinOrgs` adds single organizations (one primary-key lookup each) to either path.
   */
  async list(filter: OrgListFilter, page: PageRequest): Promise<Page<OrgView>> {
    // Ids are time-sortable, so id order is creation order.
    const after = afterId(page);
    const limit = pageLimit(page);
    const toKeyset = (row: OrgTuple): IdKeyset => ({ i: row[0] });
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.q !== undefined && hasNul(filter.q)) return emptyPage();
    if (filter.q !== undefined && filter.q !== '') {
      // name_key is already NFC + lower case; SQLite's lower() would only fold ASCII.
      conditions.push(`o.name_key LIKE ? ESCAPE '\\'`);
      params.push(`%${nameKey(filter.q).replace(/[\\%_]/g, '\\$&')}%`);
    }

    // The scope is the union of whole subtrees and single organizations (withinOrgs); undefined: everywhere.
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const roots = filter.withinSubtreesOf ?? [];
    const singles = filter.withinOrgs ?? [];
    if (scoped && filter.parentId === undefined) {
      const statement = this.lists.get<OrgTuple>(
        `SELECT ${ORG_COLUMNS} FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
         WHERE c.ancestor_id = ? AND c.descendant_id > ?${conditions.map((c) => ` AND ${c}`).join('')}
         ORDER BY c.descendant_id LIMIT ?`,
        true,
      );
      const byId = new Map<string, OrgTuple>();
      for (const root of new Set(roots)) {
        // Nested roots yield the same rows twice: the map keeps one.
        for (const row of statement.all(root, after, ...params, limit + 1)) byId.set(row[0], row);
      }
      const single = this.lists.get<OrgTuple>(
        `SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.id = ? AND o.id > ?${conditions.map((c) => ` AND ${c}`).join('')}`,
        true,
      );
      for (const id of new Set(singles)) for (const row of single.all(id, after, ...params)) byId.set(row[0], row);
      const rows = [...byId.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return toPage(rows.slice(0, limit + 1), limit, toOrgView, toKeyset);
    }

    if (filter.parentId === null) {
      conditions.push('o.parent_id IS NULL');
    } else if (filter.parentId !== undefined) {
      conditions.push('o.parent_id = ?');
      params.push(filter.parentId);
    }
    if (scoped) {
      conditions.push(
        `(EXISTS (SELECT 1 FROM org_closure c
                  WHERE c.descendant_id = o.id AND c.ancestor_id IN (SELECT value FROM json_each(?)))
          OR o.id IN (SELECT value FROM json_each(?)))`,
      );
      params.push(JSON.stringify(roots), JSON.stringify(singles));
    }
    const statement = this.lists.get<OrgTuple>(
      `SELECT ${ORG_COLUMNS} FROM orgs o
       WHERE o.id > ?${conditions.map((c) => ` AND ${c}`).join('')}
       ORDER BY o.id LIMIT ?`,
      true,
    );
    return toPage(statement.all(after, ...params, limit + 1), limit, toOrgView, toKeyset);
  }

  async children(id: string, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>> {
    const limit = pageLimit(page);
    const depth = maxDepth ?? ANY_DEPTH;
    return this.cached(`c ${id} ${depth} ${limit} ${page.cursor ?? ''}`, () => {
      let rows: ChildTuple[];
      if (page.cursor === undefined) {
        rows = this.firstDescendants.all(id, depth, limit + 1);
      } else {
        const from = decodePageCursor(page.cursor, isChildrenKeyset);
        rows = this.nextDescendants.all(id, depth, from.d, from.k, from.i, limit + 1);
      }
      return toPage(rows, limit, toOrgView, (row): ChildrenKeyset => ({ d: row[9], k: row[10], i: row[0] }));
    });
  }

  async parents(id: string): Promise<OrgView[]> {
    return this.cached(`p ${id}`, () => this.ancestors.all(id).map(toOrgView));
  }

  /** From the subtree cache like `parents` (a copy: the cached array is frozen, and callers may extend theirs). */
  async ancestorIds(id: string): Promise<string[]> {
    return this.cached<readonly string[]>(`a ${id}`, () => this.ancestorIdsOf.all(id)).slice();
  }

  /** `read`'s result for `key` at the current checkpoint: from the cache, or read, frozen and kept. */
  private cached<T extends Page<OrgView> | OrgView[] | readonly string[]>(key: string, read: () => T): T {
    const version = this.version();
    const hit = this.subtrees.get(version, key);
    if (hit !== undefined) return hit as T;
    const result = deepFreeze(read());
    this.subtrees.set(version, key, result);
    return result;
  }
}
