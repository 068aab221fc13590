import type { EventQuery } from '@arbor/application';
import { EVENT_COLUMNS } from './event-rows';

export interface EventQuerySql {
  sql: string;
  params: unknown[];
}

/**
 * The SQL for a filtered `readAll` on `<schema>.events`. The text depends only on which filters are
 * present, never on their values (`types` travels as one text[] parameter), so there are at most 2^6
 * distinct strings and the caller can keep one named prepared statement per string.
 */
export function eventQuerySql(schema: string, query: EventQuery): EventQuerySql {
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const after = query.after ?? 0;
  const where = [`e.position > ${p(after)}`];
  if (query.types !== undefined) where.push(`e.type = ANY(${p(query.types)}::text[])`);
  if (query.streamId !== undefined) where.push(`e.stream_id = ${p(query.streamId)}`);
  if (query.orgId !== undefined) {
    // Driven from event_orgs' primary key (org_id, position).
    where.push(
      `e.position IN (SELECT eo.position FROM ${schema}.event_orgs eo WHERE eo.org_id = ${p(query.orgId)} AND eo.position > $1)`,
    );
  }
  if (query.withinOrg !== undefined) {
    where.push(
      `e.position IN (SELECT eo.position FROM ${schema}.event_orgs eo WHERE eo.org_id = ${p(query.withinOrg)} AND eo.position > $1)`,
    );
  }
  if (query.actorId !== undefined) where.push(`e.actor_id = ${p(query.actorId)}`);
  // Bounds are parsed by PostgreSQL as timestamptz: any ISO 8601 form with an offset compares correctly.
  if (query.since !== undefined) where.push(`e.occurred_at >= ${p(query.since)}::timestamptz`);
  if (query.until !== undefined) where.push(`e.occurred_at <= ${p(query.until)}::timestamptz`);
  const limit = p(query.limit);
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM ${schema}.events e WHERE ${where.join(' AND ')} ORDER BY e.position LIMIT ${limit}`,
    params,
  };
}
