import { parseArgs } from 'node:util';
import { rfc3339Instant, type EventQuery, type StoredCheckpoint } from '@arbor/application';
import { EVENT_TYPES, isKnownEventType, isReadableId, type StoredEvent } from '@arbor/domain';
import { chainLine, checkpointLine } from './chain-file';
import { openEventLogForReading } from './deployment';
import { CliError, type CliIo } from './reset-admin-password';

/** Events read per query. */
const PAGE = 1000;
/** How often `--follow` asks the log for what came after its last line, in ms. */
const FOLLOW_POLL_MS = 250;

export const EVENTS_EXPORT_USAGE = `arbor events export [--after N] [--until-position N] [--until TIME] [--org ID]
                    [--type T,...] [--follow] | --chain [--until-position N]`;

/**
 * `arbor events export`: the event log as NDJSON on standard output, one event per line in position order, each
 * the public envelope the event API serves (contract section 8: `{id, type, streamId, streamVersion, position,
 * occurredAt, actor, data}`, and `requestMetadata` when the event has some; personal data stays sealed, so an
 * export of an erased user's events holds nothing readable of them). For auditors: the log as of a moment (`--until-position`, `--until` an RFC 3339 instant:
 * inclusive), one organization's subtree (`--org`: events about it or anything below it then), some types
 * (`--type`, repeatable or comma-separated, each a type the catalogue knows), from a position on (`--after`,
 * exclusive). `--follow` keeps going: after the last event it waits for the next ones (every 250 ms) until
 * interrupted or `--until-position` is reached (`arbor events tail`; `--until` is refused there). Lines are
 * written with backpressure (a slow reader slows the export, not its memory).
 *
 * `--chain` exports the log for offline verification (`arbor events verify --file`): from the first event up to
 * `--until-position` (default: the end), each line the event exactly as stored (`data` not upcast, and `orgPath`,
 * which the hash covers) with its `prevHash` and `hash` (see chainLine), and after an event the server signed a
 * checkpoint of, that checkpoint (`{"checkpoint": <JWS>, "position": N}`; one naming an event the log no longer
 * holds goes at the end). No other filter: a chain has no holes.
 *
 * Reads only, while the server runs: the embedded profile's `IAM_DATA_DIR/events.sqlite`, opened read-only (a WAL
 * reader beside the server's writer; nothing created, migrated or written) or, with DATABASE_URL, the distributed profile's PostgreSQL schema (IAM_PG_SCHEMA).
 * Errors (CliError, exit 1): an unknown or malformed option, no data where IAM_DATA_DIR points.
 */
export async function eventsExport(io: CliIo, options: { follow?: boolean } = {}): Promise<void> {
  const query = parseOptions(io.args);
  if (query.chain) {
    if (options.follow === true || query.follow || query.after !== 0 || Object.values(query.filter).some(Boolean))
      throw new CliError('--chain exports the whole log from its first event: only --until-position goes with it.');
    return exportChain(io, query.untilPosition);
  }
  const follow = options.follow === true || query.follow;
  if (follow && query.filter.until !== undefined)
    throw new CliError('--until bounds the log by time, which a tail never reaches: use `arbor events export`.');
  const store = await openEventLogForReading(io.env);
  // An organization the log never had is a typo, not an empty subtree (the event API answers its unknown ids alike).
  const orgId = query.filter.orgId;
  if (orgId !== undefined && (await store.readStream(`org-${orgId}`)).length === 0) {
    await store.close();
    throw new CliError(`No organization ${orgId} was ever created in this log.`);
  }
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
    const until = query.untilPosition;
    for (;;) {
      if (until !== undefined && after >= until) return;
      // Read before the page, so that every event up to it is visible to the page's read: with a filter, the log
      // may pass --until-position while no event the filter matches does (or only events beyond it do).
      const head = until === undefined ? undefined : await store.headPosition();
      const events = await store.readAll({ ...query.filter, after, limit: PAGE });
      let page = '';
      let beyond = false;
      for (const event of events) {
        if (until !== undefined && event.position > until) {
          beyond = true;
          break;
        }
        page += `${JSON.stringify(publicEnvelope(event))}\n`;
        after = event.position;
      }
      if (page !== '') await io.write(page);
      if (beyond || (head !== undefined && until !== undefined && head >= until && events.length < PAGE)) return;
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

/** See eventsExport: `--chain`. */
async function exportChain(io: CliIo, untilPosition: number | undefined): Promise<void> {
  const store = await openEventLogForReading(io.env);
  try {
    // The server's signed checkpoints go right after the event they sign; those that name no exported event (the
    // log lost it) at the end, so that verifying the export finds what verifying the log would.
    const checkpoints = new Map<number, StoredCheckpoint>();
    for (let after = 0; ;) {
      const page = await store.readChainCheckpoints(after, PAGE);
      for (const c of page)
        if (untilPosition === undefined || c.position <= untilPosition) checkpoints.set(c.position, c);
      if (page.length < PAGE) break;
      after = page[page.length - 1].position;
    }
    for (let after = 0; ;) {
      const links = await store.readChainLinks(after, PAGE);
      let page = '';
      let ended = links.length < PAGE;
      for (const link of links) {
        if (untilPosition !== undefined && link.event.position > untilPosition) {
          ended = true;
          break;
        }
        page += `${chainLine(link)}\n`;
        const checkpoint = checkpoints.get(link.event.position);
        if (checkpoint !== undefined) page += `${checkpointLine(checkpoint)}\n`;
        checkpoints.delete(link.event.position);
        after = link.event.position;
      }
      if (ended || (untilPosition !== undefined && after >= untilPosition))
        for (const orphan of checkpoints.values()) page += `${checkpointLine(orphan)}\n`;
      if (page !== '') await io.write(page);
      if (ended || (untilPosition !== undefined && after >= untilPosition)) return;
    }
  } finally {
    await store.close();
  }
}

/**
 * The envelope without `orgPath`, which is internal (as the event API's), and with the event's `requestMetadata` as
 * the log keeps it (issue 14: a user's sealed under their key, `{sealed, subjectId}`; a client's in clear; null once
 * retention dropped it; absent when there is none). The export reads no vault: it opens nothing.
 */
const publicEnvelope = ({ orgPath: _internal, metadataDigest: _hashed, ...event }: StoredEvent) => event;

interface ExportQuery {
  after: number;
  untilPosition?: number;
  follow: boolean;
  chain: boolean;
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
        follow: { type: 'boolean', multiple: true },
        chain: { type: 'boolean', multiple: true },
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
  if (org !== undefined && !isReadableId(org))
    throw new CliError(`--org takes an organization id (letters, digits, _ and -), not "${org}".`);
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
    follow: once('follow', values.follow?.map(String)) === 'true',
    chain: once('chain', values.chain?.map(String)) === 'true',
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
