import { readFileSync, statSync } from 'node:fs';
import {
  checkpointOf,
  encodeChainHash,
  readPublicJwks,
  verifyEventLog,
  MetadataDrops,
  SignedHeadError,
  verifyEventChain,
  verifySignedHead,
  type ChainBreakKind,
  type ChainLinkReader,
  type CheckpointReader,
  type ChainVerification,
  type SignedHeadClaims,
} from '@arbor/application';
import { ChainFileReader, checkpointLinesOf, DamagedLine, LinesOutOfOrder, metadataDropsOf } from './chain-file';
import { CliError, parseOptionsOnce, type CliIo } from './cli-io';
import { dataDirOf, openEventLogForReading } from './deployment';
import type { ProgressOut } from './rebuild';

export const EVENTS_VERIFY_USAGE = `arbor events verify [--json] [--jwks JWKS.json]
                    [--file EXPORT.ndjson [--signed-head JWS]]`;

/** The exit code of a verification that found the chain broken (0: valid; 1: refused, failed or a bad option; 2: an unknown command). */
export const CHAIN_BROKEN_EXIT = 3;

/** The report, with what a signed head adds: whether the export reaches it and holds the event it signed. */
export type Report = ReturnType<typeof reportOf> & { signedHead?: SignedHeadCheck; checkpointsChecked: boolean };

interface SignedHeadCheck {
  claims: SignedHeadClaims;
  /** True when the export holds the signed event with the signed hash. */
  matches: boolean;
  detail: string;
}

/**
 * `arbor events verify`: walks a whole event log and checks its hash chain (verifyEventChain in @arbor/application,
 * contract section 8). Without `--file`: the deployment's log, read while the server runs (the embedded log opened
 * read-only, or DATABASE_URL and IAM_PG_SCHEMA). With `--file`: an export written by `arbor events export --chain`,
 * offline; with `--jwks` (the issuer's `/.well-known/jwks.json`, saved) and `--signed-head` (the `signedHead` of
 * `GET /api/v1/events/verify`), also that the export holds the signed event with the signed hash, so nothing
 * was cut from its end or rewritten before it. The server's own signed checkpoints (in the store, or the export's
 * checkpoint lines) are checked against the key set: `--jwks`, or without it the embedded profile's own keys
 * (IAM_DATA_DIR/keys); where there is neither, they are not checked and the answer says so. Progress on standard error; the answer on standard output: a
 * sentence, or with `--json` the report (`{valid, events, head, firstBreak?, signedHead?}`, as the API's).
 * Resolves to the exit code: 0 intact, CHAIN_BROKEN_EXIT (3) when an event was altered, removed, inserted or
 * reordered, its request metadata was removed without a recorded retention drop (`metadata`: an export's drops are
 * read in a first pass over it), or the export does not match its signed head. Errors (CliError, exit 1): an unknown option, no
 * data, an unreadable file, a JWKS or signed head that does not verify.
 */
export async function eventsVerify(io: CliIo, progress: ProgressOut): Promise<number> {
  const options = parseOptions(io.args);
  const started = Date.now();
  let lastShown = 0;
  const onProgress = (accepted: number, position: number) => {
    const now = Date.now();
    if (now - lastShown < 1000) return;
    lastShown = now;
    const line = `verified ${accepted} events (position ${position})`;
    progress.write(progress.isTTY ? `\r${line}` : `${line}\n`);
  };
  const jwks = options.jwks === undefined ? undefined : readJwks(options.jwks);
  let report: Report;
  if (options.file !== undefined) {
    report = await verifyExportFile(options.file, { jwks, signedHead: options.signedHead, onProgress });
  } else {
    const store = await openEventLogForReading(io.env);
    const keySet = jwks ?? localJwks(io.env);
    try {
      const verified = await verifyEventLog(store, {
        onProgress,
        jwks: keySet === undefined ? undefined : () => keySet,
      });
      report = { ...reportOf(verified), checkpointsChecked: keySet !== undefined };
    } finally {
      await store.close();
    }
  }
  if (progress.isTTY && lastShown > 0) progress.write('\n');
  const valid = reportIsValid(report);
  if (options.json) io.out(JSON.stringify(report));
  else io.out(sentenceOf(report, (Date.now() - started) / 1000));
  return valid ? 0 : CHAIN_BROKEN_EXIT;
}

/**
 * Verifies an export written by `arbor events export --chain` (see eventsVerify): its chain, its checkpoint lines
 * against `jwks` when given, and with `signedHead` (which needs `jwks`) that it holds the signed event. CliError
 * for a JWKS or signed head that does not verify.
 */
export async function verifyExportFile(
  file: string,
  options: {
    jwks?: { keys?: unknown };
    signedHead?: string;
    onProgress?: (accepted: number, position: number) => void;
  },
): Promise<Report> {
  const { jwks } = options;
  const claims = options.signedHead === undefined ? undefined : headClaims(options.signedHead, jwks!);
  const found = jwks === undefined ? [] : await checkpointLinesOf(file);
  const checkpoints: CheckpointReader | undefined =
    jwks === undefined
      ? undefined
      : async (after, limit) =>
          found
            .filter((c) => c.position > after)
            .slice(0, limit)
            .map((c) => checkpointOf(c, jwks));
  let signedHash: string | undefined;
  let lastPosition = 0;
  const reader = new ChainFileReader(file, (link) => {
    lastPosition = link.event.position;
    if (claims !== undefined && link.event.position === claims.position && link.hash !== null)
      signedHash = encodeChainHash(link.hash);
  });
  const report: Report = {
    ...reportOf(
      await verifyOrLinesOutOfOrder(
        reader.read,
        (endBeforeLine) => new ChainFileReader(file, () => undefined, endBeforeLine).read,
        options.onProgress ?? (() => undefined),
        checkpoints,
        new MetadataDrops(signedDrops(await metadataDropsOf(file), claims?.position)),
      ),
    ),
    checkpointsChecked: checkpoints !== undefined,
  };
  // Not one checkpoint signed by a key of the set, and no signed head to show the set is the issuer's: most likely
  // the wrong key set, which would otherwise pass as "intact" with nothing checked.
  if (report.valid && claims === undefined && report.checkpoints === 0 && report.uncheckedCheckpoints > 0)
    throw new CliError(
      `No key of the key set signed any of the export's ${report.uncheckedCheckpoints} checkpoints: is it the issuer's ` +
        "JWKS? (A revoked key's checkpoints are not checked either: give the signed head of the export's end.)",
    );
  // An export of the log begins with its first event: an empty one is what a failed export or redirect leaves.
  if (report.valid && lastPosition === 0)
    throw new CliError(`${file} holds no event: \`arbor events export --chain\` writes the log from its first event.`);
  if (claims !== undefined && report.valid) report.signedHead = compareHead(claims, signedHash, lastPosition);
  return report;
}

/**
 * The retention drops an offline verification accepts as the reason an event's request metadata is gone: with a
 * signed head, those at or before its position; without, all of them. A drop after the signed head is not signed:
 * anyone can chain one onto the end of an export, and it must not excuse metadata stripped from signed events (the
 * verification names them `metadata`). Without a signed head, nothing after the last checkpoint is signed, a drop
 * there included (contract section 8): which is why an auditor keeps a signed head with an export.
 */
export function signedDrops<T extends { position: number }>(drops: T[], signedHeadPosition: number | undefined): T[] {
  return signedHeadPosition === undefined ? drops : drops.filter((d) => d.position <= signedHeadPosition);
}

/** Whether a report lets the log be trusted: the chain, and the signed head when one was given. */
export const reportIsValid = (report: Report): boolean => report.valid && (report.signedHead?.matches ?? true);

function parseOptions(args: string[]): { json: boolean; file?: string; jwks?: string; signedHead?: string } {
  const values = parseOptionsOnce(
    args,
    { json: 'boolean', file: 'string', jwks: 'string', 'signed-head': 'string' },
    EVENTS_VERIFY_USAGE,
  );
  const signedHead = values['signed-head'];
  if (signedHead !== undefined && (values.file === undefined || values.jwks === undefined))
    throw new CliError('--signed-head checks an export against the key set: give it with --file and --jwks.');
  if (values.file !== undefined) exportFileMustExist(values.file);
  return { json: values.json === true, file: values.file, jwks: values.jwks, signedHead };
}

/** CliError unless `file` is a readable regular file (an export), in words rather than ENOENT or EISDIR. */
export function exportFileMustExist(file: string): void {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    throw new CliError(`No export at ${file}.`);
  }
  if (!stats.isFile())
    throw new CliError(`${file} is not a file: give the export written by \`arbor events export --chain\`.`);
}

/**
 * The key set in `file` (RFC 7517 section 5: `{"keys": [...]}`, at least one key, each an object with its `kty`).
 * CliError (exit 1) for a file that cannot be read or is no key set: the verification's input is wrong, which must
 * not read as a broken log (exit 3).
 */
export function readJwks(file: string): { keys?: unknown } {
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`Cannot read the JWKS ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  const isKey = (k: unknown) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string';
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every(isKey))
    throw new CliError(
      `${file} is not a key set: the issuer's JWKS ({"keys": [...]}, at least one key, from /.well-known/jwks.json) is needed.`,
    );
  return jwks as { keys: unknown[] };
}

/** The embedded profile's own public keys (IAM_DATA_DIR/keys), when the directory is there; nothing is created. */
function localJwks(env: NodeJS.ProcessEnv): { keys: unknown[] } | undefined {
  if (env.DATABASE_URL) return undefined;
  const jwks = readPublicJwks(dataDirOf(env));
  return jwks.keys.length === 0 ? undefined : jwks;
}

/** The signed head's claims, verified with the key set; CliError if it does not verify. */
function headClaims(signedHead: string, jwks: { keys?: unknown }): SignedHeadClaims {
  try {
    return verifySignedHead(signedHead.trim(), jwks);
  } catch (e) {
    if (e instanceof SignedHeadError) throw new CliError(e.message);
    throw e;
  }
}

/** The breaks classifyBreak tells apart by reading past the break (see verifyOrLinesOutOfOrder). */
const LOOK_AHEAD_KINDS: ReadonlySet<ChainBreakKind> = new Set(['removed', 'inserted', 'reordered']);

/**
 * Lines out of position order are a reordering the file itself shows, and a line that is not one the export writes
 * an alteration: reported as the chain's break, unless the lines before it hold an earlier one. The reader throws
 * when it meets such a line, which may be in the page after an altered event it has not served yet: the lines
 * before it (`readUpTo`: the file as if it ended before a line) are verified again, with the checkpoints before
 * the line's position, and a break found there is the first.
 */
async function verifyOrLinesOutOfOrder(
  read: ChainLinkReader,
  readUpTo: (endBeforeLine: number) => ChainLinkReader,
  onProgress: (accepted: number, position: number) => void,
  checkpoints: CheckpointReader | undefined,
  metadataDrops: MetadataDrops,
): Promise<ChainVerification> {
  let accepted = 0;
  try {
    return await verifyEventChain(read, {
      checkpoints,
      metadataDrops,
      onProgress: (n, p) => {
        accepted = n;
        onProgress(n, p);
      },
    });
  } catch (e) {
    if (!(e instanceof LinesOutOfOrder) && !(e instanceof DamagedLine)) throw e;
    // Lines moved or repeated: the line before is part of the disorder too.
    const end = e instanceof LinesOutOfOrder ? e.previous.lineNumber : e.lineNumber;
    const readBefore = readUpTo(end);
    let lastRead = 0;
    const earlier = await verifyEventChain(
      async (after, limit) => {
        const page = await readBefore(after, limit);
        lastRead = Math.max(lastRead, page.at(-1)?.event.position ?? 0);
        return page;
      },
      { checkpoints, metadataDrops },
    ).catch(() => undefined);
    // A checkpoint past the cut is no event cut from the end (`truncated`): only a break at a line read counts. And
    // only one whose kind needs no look past the cut: `removed`, `inserted` and `reordered` are told apart by where
    // the links lead further on, which the cut file does not show (lines moved after the cut read as `removed`).
    if (
      earlier !== undefined &&
      !earlier.valid &&
      earlier.firstBreak.position <= lastRead &&
      !LOOK_AHEAD_KINDS.has(earlier.firstBreak.kind)
    )
      return earlier;
    const firstBreak = {
      kind: e instanceof LinesOutOfOrder ? e.kind : ('altered' as const),
      position: e.position,
      ...(e.eventId === undefined ? {} : { eventId: e.eventId }),
      detail: e.message,
    };
    return {
      valid: false,
      events: accepted,
      checkpoints: 0,
      uncheckedCheckpoints: 0,
      head: { position: 0, hash: Buffer.alloc(32) },
      firstBreak,
    };
  }
}

function compareHead(claims: SignedHeadClaims, hash: string | undefined, lastPosition: number): SignedHeadCheck {
  if (lastPosition < claims.position)
    return {
      claims,
      matches: false,
      detail: `The export ends at position ${lastPosition}; the signed head names position ${claims.position}: events were cut from its end.`,
    };
  if (hash !== claims.hash)
    return {
      claims,
      matches: false,
      detail: `The export's event at position ${claims.position} is not the one signed: the log was rewritten before it.`,
    };
  const after = lastPosition > claims.position ? ` (events after it are chained, not signed)` : '';
  return { claims, matches: true, detail: `The export holds the signed head at position ${claims.position}${after}.` };
}

const reportOf = (report: ChainVerification) => ({
  ...report,
  head: { position: report.head.position, hash: encodeChainHash(report.head.hash) },
});

export function sentenceOf(report: Report, seconds: number): string {
  if (!report.valid) {
    const { kind, position, detail } = report.firstBreak;
    return `The event log is broken at position ${position} (${kind}): ${detail}`;
  }
  const unchecked =
    report.uncheckedCheckpoints > 0
      ? ` (and ${report.uncheckedCheckpoints} signed by keys the key set does not hold, not checked: revoked keys, or the wrong key set)`
      : '';
  const signed = report.checkpointsChecked
    ? `${report.checkpoints} signed checkpoints${unchecked}`
    : 'signed checkpoints not checked (give --jwks)';
  const intact = `The event log is intact: ${report.events} events, ${signed}, head ${report.head.position} ${report.head.hash} (${seconds.toFixed(1)} s).`;
  if (report.signedHead === undefined) return intact;
  return report.signedHead.matches
    ? `${intact} ${report.signedHead.detail}`
    : `The export does not match its signed head: ${report.signedHead.detail}`;
}
