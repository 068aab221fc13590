import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EventQuery, EventStore } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import { openPostgresEventStore } from '@arbor/postgres';
import { openSqliteEventStore } from '@arbor/sqlite';
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
 * (`--type`), from a position on (`--after`, exclusive). `--follow` keeps going: after the last event it waits for
 * the next ones (every 250 ms) until interrupted (`arbor events tail`).
 *
 * Reads only, while the server runs: the embedded profile's `IAM_DATA_DIR/events.sqlite` (a WAL reader beside the
 * server's writer) or, with DATABASE_URL, the distributed profile's PostgreSQL schema (IAM_PG_SCHEMA).
 * Errors (CliError, exit 1): an unknown or malformed option, no data where IAM_DATA_DIR points.
 */
export async function eventsExport(io: CliIo, options: { follow?: boolean } = {}): Promise<void> {
  const query = parseOptions(io.args);
  const follow = options.follow === true || query.follow;
  const store = await openEventStore(io.env);
  let stopped = false;
  const stop = (): void => void (stopped = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let after = query.after;
    for (;;) {
      const events = await store.readAll({ ...query.filter, after, limit: PAGE });
      for (const event of events) {
        if (query.untilPosition !== undefined && event.position > query.untilPosition) return;
        io.out(JSON.stringify(publicEnvelope(event)));
        after = event.position;
      }
      if (events.length === PAGE) continue;
      if (!follow || stopped) return;
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
        after: { type: 'string' },
        'until-position': { type: 'string' },
        until: { type: 'string' },
        org: { type: 'string' },
        type: { type: 'string' },
        follow: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\nUsage: ${EVENTS_EXPORT_USAGE}`);
  }
  const position = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d{1,15}$/.test(text)) throw new CliError(`--${name} must be a log position (0 or more), not "${text}".`);
    return Number(text);
  };
  let until: string | undefined;
  if (values.until !== undefined) {
    const ms = Date.parse(values.until);
    if (!/^\d{4}-\d\d-\d\dT/.test(values.until) || Number.isNaN(ms))
      throw new CliError(`--until must be an RFC 3339 date-time (2026-03-01T00:00:00Z), not "${values.until}".`);
    until = new Date(ms).toISOString();
  }
  const types = values.type
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    after: position('after', values.after) ?? 0,
    untilPosition: position('until-position', values['until-position']),
    follow: values.follow === true,
    filter: { orgId: values.org, types: types?.length ? types : undefined, until },
  };
}

/** The log of the deployment the environment names, for reading (see eventsExport). */
async function openEventStore(env: NodeJS.ProcessEnv): Promise<EventStore & { close(): Promise<void> }> {
  if (env.DATABASE_URL) {
    const schema = env.IAM_PG_SCHEMA || 'arbor';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new CliError('IAM_PG_SCHEMA must be a lower-case SQL identifier.');
    return openPostgresEventStore(env.DATABASE_URL, { schema });
  }
  const dataDir = resolve(env.IAM_DATA_DIR || './data');
  const file = join(dataDir, 'events.sqlite');
  if (!existsSync(file))
    throw new CliError(`No Arbor data in ${dataDir} (set IAM_DATA_DIR, or DATABASE_URL for the distributed profile).`);
  return openSqliteEventStore(file);
}
