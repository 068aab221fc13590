import type { AccessSearchQueries } from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Pool } from 'pg';
import { hasNul } from './read-model-page-cursor';
import type { ReadModelSql } from './read-models-schema';

/**
 * The access searches over PostgreSQL (see AccessSearchQueries). Each root or grant is one range scan, in a
 * LATERAL subquery, of a primary key or index that starts after the keyset and stops after `limit` matching
 * rows; the outer query merges the ranges (UNION: distinct) and keeps the first `limit`. So a page costs
 * about `limit` rows per root, however deep into the result it lies, in one round trip.
 */
export class PostgresAccessSearchQueries implements AccessSearchQueries {
  private readonly allOrgs: string;
  private readonly orgsWithin: string;
  private readonly usersWith: string;
  private readonly clientsWith: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const orgs = sql.table('orgs');
    const closure = sql.table('org_closure');
    const memberships = sql.table('memberships');
    const users = sql.table('users');
    const clients = sql.table('clients');
    this.allOrgs = `SELECT id FROM ${orgs} WHERE id > $1 ORDER BY id LIMIT $2`;
    this.orgsWithin = `
      SELECT id FROM (
        SELECT x.d AS id FROM unnest($1::text[]) AS r(root)
        CROSS JOIN LATERAL (
          SELECT c.descendant_id AS d FROM ${closure} c
          WHERE c.ancestor_id = r.root AND c.descendant_id > $3 ORDER BY c.descendant_id LIMIT $4
        ) x
        UNION
        SELECT o.id FROM ${orgs} o WHERE o.id = ANY($2::text[]) AND o.id > $3
      ) u ORDER BY id COLLATE "C" LIMIT $4`;
    // $1: [{org_id, roles}] as jsonb; roles tested with jsonb ?| (holds any of these strings).
    this.usersWith = `
      SELECT id FROM (
        SELECT x.user_id AS id FROM jsonb_to_recordset($1::jsonb) AS g(org_id text, roles text[])
        CROSS JOIN LATERAL (
          SELECT m.user_id FROM ${memberships} m JOIN ${users} u ON u.id = m.user_id
          WHERE m.org_id = g.org_id AND m.user_id > $3 AND NOT m.pending AND u.status = 'active'
            AND m.roles ?| g.roles
          ORDER BY m.user_id LIMIT $4
        ) x
        UNION
        SELECT y.id FROM (
          SELECT u.id FROM ${users} u
          WHERE $2::boolean AND u.platform_admin AND u.id > $3 AND u.status = 'active' ORDER BY u.id LIMIT $4
        ) y
      ) z ORDER BY id COLLATE "C" LIMIT $4`;
    // $5: [{org_id, roles}] as jsonb, as for usersWith: one range of clients_org per role grant.
    this.clientsWith = `
      SELECT id, client_id FROM (
        SELECT s.id, s.client_id FROM (
          SELECT id, client_id FROM ${clients}
          WHERE org_id = ANY($1::text[]) AND id > $2 AND scopes ? $3::text
          ORDER BY id LIMIT $4
        ) s
        UNION
        SELECT x.id, x.client_id FROM jsonb_to_recordset($5::jsonb) AS g(org_id text, roles text[])
        CROSS JOIN LATERAL (
          SELECT c.id, c.client_id FROM ${clients} c
          WHERE c.org_id = g.org_id AND c.id > $2 AND c.roles ?| g.roles
          ORDER BY c.id LIMIT $4
        ) x
      ) u ORDER BY id COLLATE "C" LIMIT $4`;
  }

  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId)) return [];
    if (scope === 'all')
      return (await this.sql.rows<{ id: string }>(this.pool, this.allOrgs, [afterId, limit])).map((r) => r.id);
    const clean = (ids: readonly string[]) => ids.filter((id) => !hasNul(id));
    const rows = await this.sql.rows<{ id: string }>(this.pool, this.orgsWithin, [
      clean(scope.subtreeRoots),
      clean(scope.orgIds),
      afterId,
      limit,
    ]);
    return rows.map((r) => r.id);
  }

  async userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId)) return [];
    const json = grants
      .filter((g) => g.roles.length > 0 && !hasNul(g.orgId))
      .map((g) => ({ org_id: g.orgId, roles: g.roles.filter((r) => !hasNul(r)) }));
    const rows = await this.sql.rows<{ id: string }>(this.pool, this.usersWith, [
      JSON.stringify(json),
      platformAdmins,
      afterId,
      limit,
    ]);
    return rows.map((r) => r.id);
  }

  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    afterId: string,
    limit: number,
    roleGrants: ReadonlyArray<{ orgId: string; roles: readonly string[] }> = [],
  ): Promise<Array<{ id: string; clientId: string }>> {
    if (hasNul(afterId) || hasNul(scope)) return [];
    const grants = roleGrants
      .filter((g) => g.roles.length > 0 && !hasNul(g.orgId))
      .map((g) => ({ org_id: g.orgId, roles: g.roles.filter((r) => !hasNul(r)) }));
    const rows = await this.sql.rows<{ id: string; client_id: string }>(this.pool, this.clientsWith, [
      orgIds.filter((id) => !hasNul(id)),
      afterId,
      scope,
      limit,
      JSON.stringify(grants),
    ]);
    return rows.map((r) => ({ id: r.id, clientId: r.client_id }));
  }
}
