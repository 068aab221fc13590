import type { EventQuery } from '@arbor/application';
import { EVENT_COLUMNS } from './event-rows';

export interface EventQuerySql {
  sql: string;
  params: unknown[];
}

/**
 * The SQL for a filtered `readAll`. The text depends only on which filters are present and whether
 * `types` has one entry (several travel as one JSON array bound to `json_each`), never on the values, so
 * there are at most 3 * 2^5 distinct strings and the caller can cache one prepared statement per string.
 */
export function eventQuerySql(query: EventQuery): EventQuerySql {
  const where = ['e.position > ?'];
  const params: unknown[] = [query.after ?? 0];
  if (query.types !== undefined && query.types.length === 1) {
    // One type: events_type (type, rowid) already yields position order, no sort.
    where.push('e.type = ?');
    params.push(query.types[0]);
  } else if (query.types !== undefined) {
    where.push('e.type IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.types));
  }
  if (query.streamId !== undefined) {
    where.push('e.stream_id = ?');
    params.push(query.streamId);
  }
  if (query.orgId !== undefined) {
    // Driven from event_orgs' primary key (org_id, position): already in position order.
    where.push('e.position IN (SELECT eo.position FROM event_orgs eo WHERE eo.org_id = ? AND eo.position > ?)');
    params.push(query.orgId, query.after ?? 0);
  }
  if (query.withinOrg !== undefined) {
    where.push('e.position IN (SELECT eo.position FROM event_orgs eo WHERE eo.org_id = ? AND eo.position > ?)');
    params.push(query.withinOrg, query.after ?? 0);
  }
  if (query.actorId !== undefined) {
    where.push('e.actor_id = ?');
    params.push(query.actorId);
  }
  if (query.since !== undefined) {
    where.push('e.occurred_at >= ?');
    params.push(isoInstant(query.since));
  }
  if (query.until !== undefined) {
    where.push('e.occurred_at <= ?');
    params.push(isoInstant(query.until));
  }
  params.push(query.limit);
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM events e WHERE ${where.join(' AND ')} ORDER BY e.position LIMIT ?`,
    params,
  };
}

/**
 * `occurred_at` holds `Date#toISOString()` text (fixed width, UTC, milliseconds), which compares correctly
 * as a string only against the same format: `...T10:00:00Z` would sort after `...T10:00:00.000Z`.
 * Bounds are brought to that format; text that is not a date is left as is (the caller validates).
 */
function isoInstant(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}
