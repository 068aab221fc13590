import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  metadataDropOf,
  METADATA_DROP_TYPE,
  type ChainLink,
  type ChainLinkReader,
  type MetadataDrop,
  type StoredCheckpoint,
} from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import { CliError } from './cli-io';

/**
 * One line of a chained export (`arbor events export --chain`): the event exactly as stored (data not upcast, with
 * its `orgPath`, which the hash covers) and its two links, unpadded base64url.
 */
export const chainLine = ({ event, prevHash, hash }: ChainLink): string =>
  JSON.stringify({
    ...event,
    prevHash: prevHash === null ? null : Buffer.from(prevHash).toString('base64url'),
    hash: hash === null ? null : Buffer.from(hash).toString('base64url'),
  });

/**
 * A line holding one of the server's signed checkpoints and the position it is stored under: right after the event
 * it signs, or at the end for one that names an event the log no longer holds (the verifier then says `rewritten`
 * or `truncated`, as it does on the live log).
 */
export const checkpointLine = ({ position, jws }: StoredCheckpoint): string =>
  JSON.stringify({ checkpoint: jws, position });

const CHECKPOINT_PREFIX = '{"checkpoint":';

/**
 * The checkpoint a line holds, if it is exactly one `checkpointLine` writes (a JWS and a position, nothing else,
 * written as JSON.stringify writes them); `undefined` for anything else.
 */
function checkpointOfLine(line: string): StoredCheckpoint | undefined {
  let value: { checkpoint?: unknown; position?: unknown };
  try {
    value = JSON.parse(line) as typeof value;
  } catch {
    return undefined;
  }
  const { checkpoint, position } = value ?? {};
  if (typeof checkpoint !== 'string' || !Number.isSafeInteger(position) || (position as number) < 1) return undefined;
  const found = { position: position as number, jws: checkpoint };
  return checkpointLine(found) === line ? found : undefined;
}

/**
 * The checkpoint lines of an export, in position order: one pass that parses only those lines. A line that begins as
 * one but is not one, or repeats a position, is left out here: the verification's pass (ChainFileReader) names it
 * as an altered line, so that a damaged export fails its verification (exit 3) instead of being refused.
 */
export async function checkpointLinesOf(file: string): Promise<StoredCheckpoint[]> {
  const found = new Map<number, string>();
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith(CHECKPOINT_PREFIX)) continue;
    const checkpoint = checkpointOfLine(line);
    if (checkpoint !== undefined && !found.has(checkpoint.position)) found.set(checkpoint.position, checkpoint.jws);
  }
  return [...found].sort(([a], [b]) => a - b).map(([position, jws]) => ({ position, jws }));
}

/**
 * The retention drops an export records (its RequestMetadataDropped events), in position order: the first pass of an
 * offline verification, which accepts an event's missing request metadata only where a later drop covers it. Parses
 * only the lines that name the type; a line that is not a chained event is left to the verification to name.
 */
export async function metadataDropsOf(file: string): Promise<MetadataDrop[]> {
  const drops: MetadataDrop[] = [];
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes(METADATA_DROP_TYPE) || line.startsWith(CHECKPOINT_PREFIX)) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null || !Number.isSafeInteger((value as MetadataDrop).position))
      continue;
    const drop = metadataDropOf(value as Parameters<typeof metadataDropOf>[0]);
    if (drop !== undefined) drops.push(drop);
  }
  return drops.sort((a, b) => a.position - b.position);
}

const HASH = /^[A-Za-z0-9_-]{43}$/;

/** The members `chainLine` writes: the stored event's envelope (StoredEvent) and the two links. */
const LINE_MEMBERS = new Set([
  'id',
  'type',
  'streamId',
  'streamVersion',
  'position',
  'occurredAt',
  'actor',
  'data',
  'orgPath',
  'requestMetadata',
  'metadataDigest',
  'prevHash',
  'hash',
]);

/** The members of an event's `actor`, all of which the hash covers (linkContent). */
const ACTOR_MEMBERS = new Set(['type', 'id']);

/**
 * A line that is not one `chainLine` writes (not JSON, not an event, a member the chain does not cover): the export
 * was changed there. Reported as the chain's `altered` break at the line's position (or, for a line with none, the
 * position after the last good line), so the verification fails (exit 3) instead of refusing to run.
 */
export class DamagedLine extends CliError {
  constructor(
    readonly position: number,
    readonly eventId: string | undefined,
    readonly lineNumber: number,
    why: string,
  ) {
    super(`Line ${lineNumber} of the export is not a chained event as exported: ${why}.`);
  }
}

/** The link a line holds; DamagedLine naming the line when it is not one `chainLine` writes. */
function linkOf(text: string, lineNumber: number, previousPosition: number): ChainLink {
  let value: Record<string, unknown>;
  let bad = (why: string) => new DamagedLine(previousPosition + 1, undefined, lineNumber, why);
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const { prevHash, hash, ...event } = value;
  const e = event as unknown as StoredEvent;
  if (!Number.isSafeInteger(e.position) || e.position < 1) throw bad('no position');
  const eventId = typeof e.id === 'string' ? e.id : undefined;
  bad = (why: string) => new DamagedLine(e.position, eventId, lineNumber, why);
  const link = (h: unknown) => {
    if (h === null) return null;
    if (typeof h !== 'string' || !HASH.test(h)) throw bad('prevHash and hash must be 32 bytes in base64url');
    return Buffer.from(h, 'base64url');
  };
  if (eventId === undefined || typeof e.type !== 'string' || typeof e.streamId !== 'string') throw bad('no id');
  if (!Array.isArray(e.orgPath) || typeof e.actor !== 'object' || e.actor === null) throw bad('no orgPath or actor');
  // The hash covers the envelope's members only: anything added beside them would pass unchecked.
  // The same inside the actor, of which the hash covers `type` and `id` (linkContent): a member beside them (a
  // forged `onBehalfOf`, say) would be read as the event's by whoever reads the export.
  const added = [
    ...Object.keys(value).filter((name) => !LINE_MEMBERS.has(name)),
    ...Object.keys(e.actor)
      .filter((name) => !ACTOR_MEMBERS.has(name))
      .map((name) => `actor.${name}`),
  ];
  if (added.length > 0) throw bad(`it has members the chain does not cover (${added.join(', ')})`);
  if (typeof e.actor.type !== 'string' || typeof e.actor.id !== 'string') throw bad('no actor type or id');
  // chainLine's JSON.stringify, exactly: a member written twice (which JSON.parse reads as its last value, other
  // parsers as their first), spacing or escapes changed would let another tool read another event than the hashed.
  if (JSON.stringify(value) !== text)
    throw bad('it is not written as the export writes it (a member repeated, or spacing or escapes changed)');
  return { event: e, prevHash: link(prevHash), hash: link(hash) };
}

/**
 * Lines whose positions go back: the lines were moved, reported as the chain's `reordered` break; or a line that
 * repeats the position of the line before it: a copy put in, reported as `inserted`.
 */
export class LinesOutOfOrder extends CliError {
  readonly kind: 'reordered' | 'inserted';

  constructor(
    readonly position: number,
    readonly eventId: string,
    readonly lineNumber: number,
    readonly previous: { position: number; lineNumber: number },
  ) {
    super(
      position === previous.position
        ? `Line ${lineNumber} of the export (event ${eventId}) repeats position ${position} of line ${previous.lineNumber}.`
        : `Line ${lineNumber} of the export (event ${eventId}) goes back to position ${position} after position ${previous.position} on line ${previous.lineNumber}.`,
    );
    this.kind = position === previous.position ? 'inserted' : 'reordered';
  }
}

/**
 * Serves a chained export's lines to verifyEventChain as a store would (`readChainLinks`): read forward, one
 * pass for the verification; a read that goes back (only to name a break) starts the file again. Positions
 * must grow from line to line (LinesOutOfOrder otherwise). `seen` is called
 * with every link the first pass reads. With `endBeforeLine`, the file is read as if it ended before that line
 * (1-based): what a verification of the lines before a damaged one reads.
 */
export class ChainFileReader {
  private lines: AsyncIterator<string> | undefined;
  private lineNumber = 0;
  private lastPosition = 0;
  /** The line of the event at `lastPosition`. */
  private lastLineNumber = 0;
  /** The position of the last link served: a read after it (or at it) goes on forward. */
  private lastServed = 0;
  /** A link read but not yet served (it came after the page asked for). */
  private pending: ChainLink | undefined;
  private firstPassDone = false;
  /** The positions of the checkpoint lines read in this pass. */
  private checkpointPositions = new Set<number>();

  constructor(
    private readonly file: string,
    private readonly seen: (link: ChainLink) => void = () => undefined,
    private readonly endBeforeLine = Infinity,
  ) {}

  readonly read: ChainLinkReader = async (after, limit) => {
    if (this.lines === undefined || after < this.lastServed) this.restart();
    const page: ChainLink[] = [];
    for (;;) {
      const link = this.pending ?? (await this.next());
      this.pending = undefined;
      if (link === undefined) break;
      if (link.event.position <= after) continue;
      if (page.length === limit) {
        this.pending = link;
        break;
      }
      page.push(link);
      this.lastServed = link.event.position;
    }
    return page;
  };

  private restart(): void {
    if (this.lines !== undefined) this.firstPassDone = true;
    const stream = createReadStream(this.file, { encoding: 'utf8' });
    this.lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
    this.lineNumber = 0;
    this.lastPosition = 0;
    this.lastLineNumber = 0;
    this.lastServed = 0;
    this.pending = undefined;
    this.checkpointPositions = new Set();
  }

  /** A checkpoint line must be one `checkpointLine` writes, each position once: DamagedLine (altered) otherwise. */
  private checkpointLine(line: string): void {
    const checkpoint = checkpointOfLine(line);
    const why =
      checkpoint === undefined
        ? 'it begins as a checkpoint line but is not one as the export writes it'
        : this.checkpointPositions.has(checkpoint.position)
          ? `it repeats the checkpoint of position ${checkpoint.position}`
          : undefined;
    if (why !== undefined) throw new DamagedLine(this.lastPosition + 1, undefined, this.lineNumber, why);
    this.checkpointPositions.add(checkpoint!.position);
  }

  private async next(): Promise<ChainLink | undefined> {
    for (;;) {
      const { value, done } = await (this.lines as AsyncIterator<string>).next();
      if (done === true) return undefined;
      this.lineNumber++;
      if (this.lineNumber >= this.endBeforeLine) return undefined;
      if ((value as string).trim() === '') continue;
      if ((value as string).startsWith(CHECKPOINT_PREFIX)) {
        this.checkpointLine(value as string);
        continue;
      }
      const link = linkOf(value as string, this.lineNumber, this.lastPosition);
      if (link.event.position <= this.lastPosition)
        throw new LinesOutOfOrder(link.event.position, link.event.id, this.lineNumber, {
          position: this.lastPosition,
          lineNumber: this.lastLineNumber,
        });
      this.lastPosition = link.event.position;
      this.lastLineNumber = this.lineNumber;
      if (!this.firstPassDone) this.seen(link);
      return link;
    }
  }
}
