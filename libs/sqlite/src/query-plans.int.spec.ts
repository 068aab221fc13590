import Database from 'better-sqlite3';
import { applyMigrations } from './apply-migrations';
import { EVENT_STORE_MIGRATIONS } from './event-store-schema';
import { DROP_REQUEST_METADATA_SQL, HAS_REQUEST_METADATA_SQL } from './sqlite-event-store-transaction';
import { READ_MODELS_MIGRATIONS } from './read-models-schema';
import { PLATFORM_ADMINS_SQL } from './sqlite-access-search-queries';
import { INHERITED_ROLES_SQL, accessQuestionsBatchSql } from './sqlite-membership-queries';

/** The steps of EXPLAIN QUERY PLAN for `sql` on `db`, bound with `params`. */
const planOn = (db: Database.Database, sql: string, params: unknown[]): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);

/**
 * The hot read statements use the indexes meant for them (EXPLAIN QUERY PLAN on the migrated schema). Without
 * statistics SQLite's planner picks by shape, and an index added for one statement can win another: the covering
 * `users_access` (for access questions) once took the platform admins' range from its partial index and read
 * every user per search/subject page.
 */
describe('query plans of the SQLite read models', () => {
  const db = new Database(':memory:');
  applyMigrations(db, READ_MODELS_MIGRATIONS);
  afterAll(() => db.close());
  const plan = (sql: string, params: unknown[]): string[] => planOn(db, sql, params);

  it('platform admins: a range of their partial index only', () => {
    expect(plan(PLATFORM_ADMINS_SQL, ['', 10])).toEqual(['SEARCH users USING INDEX users_platform_admin (id>?)']);
  });

  it('inherited roles: the ancestors, each probed in the memberships key, never a scan of the user’s memberships', () => {
    // The closure outside; each ancestor one equality search of a membership (user and organization both bound).
    expect(plan(INHERITED_ROLES_SQL, ['u', 'o'])).toEqual([
      'SEARCH c USING COVERING INDEX org_closure_parents (descendant_id=?)',
      'SEARCH m USING COVERING INDEX memberships_user (user_id=? AND org_id=? AND pending=?)',
    ]);
  });

  it('access questions: every search on a covering index, no scan, no sort', () => {
    const steps = plan(accessQuestionsBatchSql(3), ['u', 'o', 'u', 'o', 'u', 'o']);
    expect(steps).toEqual(
      expect.arrayContaining([
        'SEARCH o USING COVERING INDEX orgs_access (id=?) LEFT-JOIN',
        'SEARCH u USING COVERING INDEX users_access (id=?) LEFT-JOIN',
        'SEARCH m USING COVERING INDEX memberships_user (user_id=?)',
        'SEARCH c USING PRIMARY KEY (ancestor_id=? AND descendant_id=?)',
      ]),
    );
    expect(steps.filter((s) => /TEMP B-TREE|^SCAN (o|u|m|c)\b/.test(s))).toEqual([]);
  });
});

describe('query plans of the SQLite event log', () => {
  const db = new Database(':memory:');
  applyMigrations(db, EVENT_STORE_MIGRATIONS);
  afterAll(() => db.close());
  const plan = (sql: string, params: unknown[]): string[] => planOn(db, sql, params);

  it('retention reads only the events still holding request metadata (their partial index), not every old one', () => {
    const cutoff = '2026-01-01T00:00:00.000Z';
    expect(plan(HAS_REQUEST_METADATA_SQL, [cutoff])).toEqual([
      'SEARCH events USING INDEX events_request_metadata (occurred_at<?)',
    ]);
    expect(plan(DROP_REQUEST_METADATA_SQL, [cutoff])).toEqual([
      'SEARCH events USING INDEX events_request_metadata (occurred_at<?)',
    ]);
  });
});
