import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rfc3339Instant, type EventQuery, type EventStore } from '@arbor/application';
import { EVENT_TYPES, isKnownEventType, type StoredEvent } from '@arbor/domain';
import { openPostgresEventStore } from '@arbor/postgres';
import { openSqliteEventStoreReadOnly } from '@arbor/sqlite';
import { deploymentOf } from './deployment';
import { CliError, type CliIo } from './reset-admin-password';

/** Events read per query. */
const PAGE = 1000;
/** How often `--follow` asks the log for what came after its last line, in ms. */
const FOLLOW_POLL_MS = 250;

export const EVENTS_EXPORT_USAGE = `arbor events export [--after N] [--until-position N] [--until TIME] [--org ID]
                    [--type T,...] [--follow]`;

/**
 * `arbor events export`: the event log as NDJSON on standard output, one event per line in position order, each
 * the public envelope the event API serves (contract section 8: `{id, type, streamId, streamVersion, position,
 * occurredAt, actor, data}`; personal data stays sealed, so an export of an erased user's events holds nothing
 * readable of them). For auditors: the log as of a moment (`--until-position`, `--until` an RFC 3339 instant:
 * inclusive), one organization's subtree (`--org`: events about it or anything below it then), some types
 * (`--type`, repeatable or comma-separated, each a type the catalogue knows), from a position on (`--after`,
 * exclusive). `--follow` keeps going: after the last event it waits for the next ones (every 250 ms) until
 * interrupted or `--until-position` is reached (`arbor events tail`; `--until` is refused there). Lines are
 * written with backpressure (a slow reader slows the export, not its memory).
 *
 * Reads only, while the server runs: the embedded profile's `IAM_DATA_DIR/events.sqlite`, opened read-only (a WAL
 * reader beside the server's writer; nothing created, migrated or written) or, with DATABASE_URL, the distributed profile's PostgreSQL schema (IAM_PG_SCHEMA).
 * Errors (CliError, exit 1): an unknown or malformed option, no data where IAM_DATA_DIR points.
 */
export async function eventsExport(io: CliIo, options: { follow?: boolean } = {}): Promise<void> {
  const query = parseOptions(io.args);
  const follow = options.follow === true || query.follow;
  if (follow && query.filter.until !== undefined)
    throw new CliError('--until bounds the log by time, which a tail never reaches: use `arbor events export`.');
  const store = await openEventStore(io.env);
  // A tail ends on SIGINT or SIGTERM between pages, its store closed; a plain export keeps the default (it holds
  // nothing to flush but what it already wrote).
  let stopped = false;
  const stop = (): void => void (stopped = true);
  if (follow) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  try {
    let after = query.after;
    for (;;) {
      if (query.untilPosition !== undefined && after >= query.untilPosition) return;
      const events = await store.readAll({ ...query.filter, after, limit: PAGE });
      let page = '';
      for (const event of events) {
        if (query.untilPosition !== undefined && event.position > query.untilPosition) break;
        page += `${JSON.stringify(publicEnvelope(event))}\n`;
        after = event.position;
      }
      if (page !== '') await io.write(page);
      if (events.length > 0 && query.untilPosition !== undefined && after >= query.untilPosition) return;
      // A turn of the event loop per page, so that a signal is seen even while a long log is read.
      await new Promise((r) => setImmediate(r));
      if (stopped) return;
      if (events.length === PAGE) continue;
      if (!follow) return;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      if (stopped) return;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await store.close();
  }
}

/** The envelope without `orgPath`, which is internal (as the event API's). */
const publicEnvelope = ({ orgPath: _internal, ...event }: StoredEvent) => event;

interface ExportQuery {
  after: number;
  untilPosition?: number;
  follow: boolean;
  filter: Omit<EventQuery, 'after' | 'limit'>;
}

function parseOptions(args: string[]): ExportQuery {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        after: { type: 'string', multiple: true },
        'until-position': { type: 'string', multiple: true },
        until: { type: 'string', multiple: true },
        org: { type: 'string', multiple: true },
        type: { type: 'string', multiple: true },
        follow: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\nUsage: ${EVENTS_EXPORT_USAGE}`);
  }
  const once = (name: string, given: string[] | undefined): string | undefined => {
    if (given !== undefined && given.length > 1) throw new CliError(`--${name} may be given once.`);
    return given?.[0];
  };
  const position = (name: string): number | undefined => {
    const text = once(name, values[name as 'after' | 'until-position']);
    if (text === undefined) return undefined;
    if (!/^\d{1,16}$/.test(text) || Number(text) > Number.MAX_SAFE_INTEGER)
      throw new CliError(`--${name} must be a log position from 0 to 2^53 - 1, not "${text}".`);
    return Number(text);
  };
  const untilText = once('until', values.until);
  const org = once('org', values.org);
  if (org !== undefined && org.trim() === '') throw new CliError('--org needs an organization id.');
  // Several --type, or one with commas: every type named, each one the catalogue knows.
  let types: string[] | undefined;
  if (values.type !== undefined) {
    types = values.type.flatMap((t) => t.split(',')).map((t) => t.trim());
    if (types.some((t) => t === ''))
      throw new CliError('--type needs event types separated by commas, with none empty.');
    const unknown = types.filter((t) => !isKnownEventType(t));
    if (unknown.length > 0)
      throw new CliError(`Unknown event type ${unknown.join(', ')}; the types are: ${EVENT_TYPES.join(', ')}.`);
  }
  return {
    after: position('after') ?? 0,
    untilPosition: position('until-position'),
    follow: values.follow === true,
    filter: { orgId: org, types, until: untilText === undefined ? undefined : instantOf(untilText) },
  };
}

/** `--until` as the ISO instant the store compares, by the event API's rule (rfc3339Instant); CliError otherwise. */
function instantOf(text: string): string {
  const instant = rfc3339Instant(text);
  if (instant === undefined)
    throw new CliError(`--until must be an RFC 3339 date-time with its offset (2026-03-01T00:00:00Z), not "${text}".`);
  return instant;
}

/** The log of the deployment the environment names, for reading (see eventsExport). */
async function openEventStore(env: NodeJS.ProcessEnv): Promise<EventStore & { close(): Promise<void> }> {
  const deployment = deploymentOf(env);
  if (deployment.profile === 'distributed')
    return openPostgresEventStore(deployment.databaseUrl, { schema: deployment.schema });
  try {
    return openSqliteEventStoreReadOnly(join(deployment.dataDir, 'events.sqlite'));
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}
