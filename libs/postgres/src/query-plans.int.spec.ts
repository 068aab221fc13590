import { describeWithEnv, Log } from '@arbor/testing';
import { Pool } from 'pg';
import { ancestorsSql } from './postgres-org-queries';
import { openPostgresReadModels, type PostgresReadModels } from './postgres-read-models';
import { DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

/** Every node of a JSON plan (EXPLAIN (FORMAT JSON)), depth first. */
function nodesOf(plan: Record<string, unknown>): Array<Record<string, unknown>> {
  const children = (plan['Plans'] as Array<Record<string, unknown>> | undefined) ?? [];
  return [plan, ...children.flatMap(nodesOf)];
}

/**
 * The plans of the read models' hot statements where statistics could mislead PostgreSQL's planner: right after
 * a projection (a rebuild, a first catch-up) ANALYZE has not seen the tables yet, and a plan chosen on guessed row
 * counts stays until autovacuum catches up (a minute or more at 100k organizations).
 */
maybe('PostgreSQL read models: query plans before ANALYZE', () => {
  const schema = randomSchema('rm_plans');
  let rm: PostgresReadModels;
  let pool: Pool;
  const leaf = 'org_2999';

  beforeAll(async () => {
    rm = await openPostgresReadModels(DATABASE_URL, { schema, poolSize: 2 });
    pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    // 3,000 organizations, branching 3 (depth 7), projected as the projector does, never analyzed.
    const log = new Log();
    const events = Array.from({ length: 3000 }, (_, i) =>
      log.created(`org_${i}`, `Org ${i}`, i === 0 ? null : `org_${Math.floor((i - 1) / 3)}`),
    );
    for (let i = 0; i < events.length; i += 500) await rm.apply(events.slice(i, i + 500));
  });
  afterAll(async () => {
    await rm?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it('reads the ancestors of an organization by index only: no sequential scan of the organizations', async () => {
    const sql = ancestorsSql(`"${schema}".org_closure`, `"${schema}".orgs`);
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
      `EXPLAIN (FORMAT JSON) ${sql.replace('$1', `'${leaf}'`)}`,
    );
    const nodes = nodesOf(rows[0]['QUERY PLAN'][0].Plan);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
    expect(nodes.map((n) => n['Node Type'])).toContain('Nested Loop');
    // And the answer is the path, root first.
    expect((await rm.orgs.parents(leaf)).map((o) => o.id)).toEqual([
      'org_0',
      'org_3',
      'org_11',
      'org_36',
      'org_110',
      'org_332',
      'org_999',
    ]);
  });
});
