import type { OrgListFilter, OrgQueries, OrgView, Page, PageRequest } from '@arbor/application';
import { nameKey } from '@arbor/domain';
import type { Pool } from 'pg';
import {
  afterId,
  decodePageCursor,
  emptyPage,
  hasNul,
  isPgText,
  isRecord,
  pageLimit,
  toPage,
  type IdKeyset,
} from './read-model-page-cursor';
import { ORG_COLUMNS, toOrgView, type OrgRow } from './read-model-rows';
import { SqlParams, type ReadModelSql } from './read-models-schema';

/** Keyset of `children`: the last row's position in (distance, name key, id) order (as in the SQLite adapter). */
export interface ChildrenKeyset {
  d: number;
  k: string;
  i: string;
}

/** Deeper than any tree can be, and still an `integer`: "all descendants" as a depth bound. */
export const ANY_DEPTH = 2 ** 31 - 1;

export const isChildrenKeyset = (v: unknown): v is ChildrenKeyset =>
  isRecord(v) &&
  Number.isSafeInteger(v.d) &&
  (v.d as number) >= 1 &&
  (v.d as number) <= ANY_DEPTH &&
  isPgText(v.k) &&
  isPgText(v.i);

type ChildRow = OrgRow & { c_distance: number; c_name_key: string };

/**
 * The ancestors of organization $1, root first, from the tables `closure` and `orgs` (schema-qualified).
 * A nested loop whatever the statistics say: one backward range of org_closure_parents, then one primary-key lookup
 * per ancestor (at most 64). The LATERAL subquery with OFFSET 0 cannot be flattened into a join for the planner to
 * reorder: before ANALYZE has seen a freshly projected closure (a rebuild, a first catch-up), a plain join was planned
 * as a hash join over a sequential scan of every organization (25 ms at 100k instead of 0.1; query-plans.int.spec.ts).
 */
export const ancestorsSql = (closure: string, orgs: string): string => `
  SELECT ${ORG_COLUMNS}
  FROM ${closure} c CROSS JOIN LATERAL (SELECT * FROM ${orgs} o WHERE o.id = c.ancestor_id OFFSET 0) o
  WHERE c.descendant_id = $1 AND c.distance > 0
  ORDER BY c.distance DESC`;

/**
 * Organization queries. A page is one query fetching `limit + 1` rows (the extra row only tells whether a
 * next page exists), with keyset pagination that resumes through an index seek, never an offset.
 */
export class PostgresOrgQueries implements OrgQueries {
  private readonly byId: string;
  private readonly firstDescendants: string;
  private readonly nextDescendants: string;
  private readonly ancestors: string;
  private readonly ancestorIdsOf: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const orgs = sql.table('orgs');
    const closure = sql.table('org_closure');
    this.byId = `SELECT ${ORG_COLUMNS} FROM ${orgs} o WHERE o.id = $1`;
    // Both are one range scan of org_closure_children, no sort. The first page starts at distance 1 (past
    // the self row); later pages seek to the row-value keyset, whose distance is always >= 1.
    const descendantsSql = (range: string, limit: string): string =>
      `SELECT ${ORG_COLUMNS}, c.distance AS c_distance, c.d_name_key AS c_name_key
       FROM ${closure} c JOIN ${orgs} o ON o.id = c.descendant_id
       WHERE c.ancestor_id = $1 AND ${range}
       ORDER BY c.distance, c.d_name_key, c.descendant_id
       LIMIT ${limit}`;
    this.firstDescendants = descendantsSql('c.distance BETWEEN 1 AND $2', '$3');
    this.nextDescendants = descendantsSql(
      'c.distance <= $2 AND (c.distance, c.d_name_key, c.descendant_id) > ($3::integer, $4::text, $5::text)',
      '$6',
    );
    this.ancestors = ancestorsSql(closure, orgs);
    this.ancestorIdsOf = `SELECT c.ancestor_id FROM ${closure} c
      WHERE c.descendant_id = $1 AND c.distance > 0 ORDER BY c.distance DESC`;
  }

  async get(id: string): Promise<OrgView | undefined> {
    if (hasNul(id)) return undefined;
    const [row] = await this.sql.rows<OrgRow>(this.pool, this.byId, [id]);
    return row === undefined ? undefined : toOrgView(row);
  }

  /**
   * Organizations in id order. With `withinSubtreesOf` and no `parentId`, each root's descendants are read
   * in id order from the closure's primary key (ancestor_id, descendant_id), at most `limit + 1` per root
   * (a LATERAL join over the roots), then merged: a page costs O(roots x limit) whatever the subtrees'
   * sizes, in one round trip. Otherwise one scan of `orgs` (by `orgs_parent` when `parentId` is given),
   * checking scope per row through the same key. `withinOrgs` adds single organizations (looked up by id).
   */
  async list(filter: OrgListFilter, page: PageRequest): Promise<Page<OrgView>> {
    // Ids are time-sortable, so id order is creation order.
    const after = afterId(page);
    const limit = pageLimit(page);
    const toKeyset = (row: OrgRow): IdKeyset => ({ i: row.id });
    const orgs = this.sql.table('orgs');
    const closure = this.sql.table('org_closure');
    const p = new SqlParams();
    const afterParam = p.add(after);
    const limitParam = p.add(limit + 1);
    const conditions: string[] = [];
    if (filter.q !== undefined && filter.q !== '') {
      if (hasNul(filter.q)) return emptyPage();
      // name_key is already NFC + lower case, folded in JavaScript as the SQLite adapter does.
      conditions.push(`o.name_key LIKE ${p.add(`%${nameKey(filter.q).replace(/[\\%_]/g, '\\$&')}%`)} ESCAPE '\\'`);
    }
    // The scope is the union of whole subtrees and single organizations (withinOrgs); undefined: everywhere.
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const roots = [...new Set(filter.withinSubtreesOf ?? [])].filter(isPgText);
    const singles = [...new Set(filter.withinOrgs ?? [])].filter(isPgText);

    if (scoped && filter.parentId === undefined) {
      // Nested roots yield the same rows twice: DISTINCT ON keeps one. A single organization is a lookup by id.
      const rows = await this.sql.rows<OrgRow>(
        this.pool,
        `SELECT DISTINCT ON (x.id) x.* FROM (
           SELECT y.* FROM unnest(${p.add(roots)}::text[]) AS r(root)
           CROSS JOIN LATERAL (
             SELECT ${ORG_COLUMNS} FROM ${closure} c JOIN ${orgs} o ON o.id = c.descendant_id
             WHERE c.ancestor_id = r.root AND c.descendant_id > ${afterParam}${conditions.map((c) => ` AND ${c}`).join('')}
             ORDER BY c.descendant_id LIMIT ${limitParam}
           ) y
           UNION ALL
           SELECT ${ORG_COLUMNS} FROM ${orgs} o
           WHERE o.id = ANY(${p.add(singles)}::text[]) AND o.id > ${afterParam}${conditions.map((c) => ` AND ${c}`).join('')}
         ) x
         ORDER BY x.id LIMIT ${limitParam}`,
        p.values,
      );
      return toPage(rows, limit, toOrgView, toKeyset);
    }

    if (filter.parentId === null) {
      conditions.push('o.parent_id IS NULL');
    } else if (filter.parentId !== undefined) {
      if (hasNul(filter.parentId)) return emptyPage();
      conditions.push(`o.parent_id = ${p.add(filter.parentId)}`);
    }
    if (scoped) {
      conditions.push(
        `(EXISTS (SELECT 1 FROM ${closure} c WHERE c.descendant_id = o.id AND c.ancestor_id = ANY(${p.add(roots)}::text[]))
          OR o.id = ANY(${p.add(singles)}::text[]))`,
      );
    }
    const rows = await this.sql.rows<OrgRow>(
      this.pool,
      `SELECT ${ORG_COLUMNS} FROM ${orgs} o
       WHERE o.id > ${afterParam}${conditions.map((c) => ` AND ${c}`).join('')}
       ORDER BY o.id LIMIT ${limitParam}`,
      p.values,
    );
    return toPage(rows, limit, toOrgView, toKeyset);
  }

  async children(id: string, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>> {
    const limit = pageLimit(page);
    const depth = maxDepth === null ? ANY_DEPTH : Math.min(Math.floor(maxDepth), ANY_DEPTH);
    const from = page.cursor === undefined ? undefined : decodePageCursor(page.cursor, isChildrenKeyset);
    if (hasNul(id) || Number.isNaN(depth)) return emptyPage();
    const rows =
      from === undefined
        ? await this.sql.rows<ChildRow>(this.pool, this.firstDescendants, [id, depth, limit + 1])
        : await this.sql.rows<ChildRow>(this.pool, this.nextDescendants, [
            id,
            depth,
            from.d,
            from.k,
            from.i,
            limit + 1,
          ]);
    return toPage(rows, limit, toOrgView, (row): ChildrenKeyset => ({
      d: row.c_distance,
      k: row.c_name_key,
      i: row.id,
    }));
  }

  async parents(id: string): Promise<OrgView[]> {
    if (hasNul(id)) return [];
    return (await this.sql.rows<OrgRow>(this.pool, this.ancestors, [id])).map(toOrgView);
  }

  async ancestorIds(id: string): Promise<string[]> {
    if (hasNul(id)) return [];
    const rows = await this.sql.rows<{ ancestor_id: string }>(this.pool, this.ancestorIdsOf, [id]);
    return rows.map((row) => row.ancestor_id);
  }
}
