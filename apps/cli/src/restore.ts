import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointOf,
  encodeChainHash,
  storedCheckpoints,
  readMetadataDrops,
  verifyEventChain,
  type ChainLink,
  type ChainVerification,
} from '@arbor/application';
import { openSqliteEventStoreReadOnly, restoreSqliteEventLog } from '@arbor/sqlite';
import { ChainFileReader, checkpointLinesOf } from './chain-file';
import { CliError, parseOptionsOnce, type CliIo } from './cli-io';
import { dataDirOf } from './deployment';
import {
  CHAIN_BROKEN_EXIT,
  exportFileMustExist,
  readJwks,
  reportIsValid,
  sentenceOf,
  verifyExportFile,
} from './events-verify';

export const RESTORE_USAGE =
  'arbor restore --file EXPORT.ndjson (--jwks JWKS.json --signed-head JWS | [--jwks JWKS.json] --trust-unsigned)';

/**
 * `arbor restore`: puts an export written by `arbor events export --chain` back as the event log of an empty data
 * directory (IAM_DATA_DIR, default ./data; the embedded profile), after verifying it as `arbor events verify --file`
 * does (its chain; with `--jwks` its checkpoints; with `--signed-head` that it ends at the signed event). The server
 * will sign what it restores, so the export must be signed to its end: `--signed-head` (the `signedHead` of
 * `GET /api/v1/events/verify`, kept with the export), and no event after the signed one (exit 3: chained, but nothing
 * signed it; an export cut with `--until-position` at the head has none). Without a signed head, nothing shows that
 * the export was not cut or rewritten after its last checkpoint (or anywhere, without checkpoints): refused unless
 * `--trust-unsigned` says the operator vouches for it. The log is
 * written exactly as exported (positions, ids, times, hashes, and the checkpoints a key of the set verifies: it
 * verifies to the same head); the next
 * start projects the read models from it. Personal data stays sealed: it reads as erased unless the vault
 * (`vault.sqlite`) is put beside it, which also holds the password hashes (else `arbor reset-admin-password`).
 * Resolves to the exit code: 0 restored, CHAIN_BROKEN_EXIT (3) when the export does not verify (nothing written).
 * Errors (CliError, exit 1): DATABASE_URL set, a data directory holding an event log or anything but the vault and
 * the keys, an unreadable export.
 */
export async function restore(io: CliIo): Promise<number> {
  const values = parseOptionsOnce(
    io.args,
    { file: 'string', jwks: 'string', 'signed-head': 'string', 'trust-unsigned': 'boolean' },
    RESTORE_USAGE,
  );
  if (values.file === undefined) throw new CliError(`--file is required.\nUsage: ${RESTORE_USAGE}`);
  if (values['signed-head'] !== undefined && values.jwks === undefined)
    throw new CliError('--signed-head is checked against the key set: give --jwks too.');
  if (io.env.DATABASE_URL)
    throw new CliError("arbor restore writes the embedded profile's log (IAM_DATA_DIR); unset DATABASE_URL.");
  exportFileMustExist(values.file);
  const dataDir = dataDirOf(io.env);
  const log = join(dataDir, 'events.sqlite');
  if (existsSync(log))
    throw new CliError(`${dataDir} already holds an event log: restore into an empty data directory.`);
  emptyButVaultAndKeys(dataDir);

  const checkpoints = await checkpointLinesOf(values.file);
  // A checkpoint is restored only once it verified: the restored log will be trusted through it.
  if (checkpoints.length > 0 && values.jwks === undefined)
    throw new CliError(
      `The export carries ${checkpoints.length} signed checkpoints: give --jwks (the issuer's saved JWKS) so that they are checked before they are restored.`,
    );
  if (values['signed-head'] === undefined && values['trust-unsigned'] !== true)
    throw new CliError(
      'Nothing would show that the export was not cut or rewritten after its last signed checkpoint, and the server ' +
        'will sign what is restored: give --jwks and --signed-head (the signedHead of GET /api/v1/events/verify, kept ' +
        'with the export), or --trust-unsigned to restore it as it is.\n' +
        `Usage: ${RESTORE_USAGE}`,
    );
  const jwks = values.jwks === undefined ? undefined : readJwks(values.jwks);
  const report = await verifyExportFile(values.file, { jwks, signedHead: values['signed-head'] });
  if (!reportIsValid(report)) {
    io.out(`Not restored. ${sentenceOf(report, 0)}`);
    return CHAIN_BROKEN_EXIT;
  }
  const signed = report.signedHead?.claims.position;
  if (signed !== undefined && report.head.position > signed) {
    io.out(
      `Not restored: the export holds events after the signed head (positions ${signed + 1} to ${report.head.position}), ` +
        `which nothing signed. Export with --until-position ${signed}, or give the signed head of its end.`,
    );
    return CHAIN_BROKEN_EXIT;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // Only checkpoints a key of the set verifies: one whose kid it lacks (a key revoked since, or forged under a made-up
  // kid) was skipped by the verification as no evidence, and the restored log must not trust it.
  const verified = checkpoints.filter((c) => jwks !== undefined && 'hash' in checkpointOf(c, jwks));
  const unchecked = checkpoints.length - verified.length;
  const written = await restoreSqliteEventLog(log, linksOf(values.file), verified);
  // The file was read twice (to verify, then to write): what was written is verified again, from the new log.
  const again = await verifyRestored(log, jwks);
  if (
    !again.valid ||
    again.head.position !== report.head.position ||
    encodeChainHash(again.head.hash) !== report.head.hash
  ) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${log}${suffix}`, { force: true });
    io.out(
      'Not restored: the export changed while it was restored (what was written does not verify to the same head).',
    );
    return CHAIN_BROKEN_EXIT;
  }
  io.out(
    `Restored ${written} events into ${log} (head ${report.head.position} ${report.head.hash}). The next start ` +
      'projects the read models. Put the vault (vault.sqlite) and the signing keys (keys/) beside it: the vault keeps ' +
      'personal data and passwords (without it every user reads as erased: nobody can log in, and ' +
      '`arbor reset-admin-password` finds no admin to reset), the keys let the server verify its checkpoints and go on ' +
      'signing them.' +
      (unchecked > 0
        ? ` ${unchecked} signed checkpoints of the export were left out: no key of the key set verifies them.`
        : ''),
  );
  return 0;
}

/** The restored log's chain, with its checkpoints when a key set is given. */
async function verifyRestored(log: string, jwks: { keys?: unknown } | undefined): Promise<ChainVerification> {
  const store = openSqliteEventStoreReadOnly(log);
  try {
    return await verifyEventChain((after, limit) => store.readChainLinks(after, limit), {
      checkpoints: jwks === undefined ? undefined : storedCheckpoints(store, () => jwks),
      metadataDrops: await readMetadataDrops(store),
    });
  } finally {
    await store.close();
  }
}

/** The export's links in order, read again (the verification has checked them). */
async function* linksOf(file: string): AsyncGenerator<ChainLink> {
  const reader = new ChainFileReader(file);
  for (let after = 0; ;) {
    const page = await reader.read(after, 1000);
    yield* page;
    if (page.length < 1000) return;
    after = page[page.length - 1].event.position;
  }
}

/**
 * What a restore target may hold already: the vault and the signing keys that go with the log (the README's
 * recovery puts them there first). Anything else (another deployment's read models, a lock, a stray file) would be
 * served beside the restored log: the next start would project the log on top of read models that do not come from
 * it. CliError naming what is there; none when the directory does not exist yet.
 */
function emptyButVaultAndKeys(dataDir: string): void {
  let entries: string[];
  try {
    if (!statSync(dataDir).isDirectory())
      throw new CliError(`${dataDir} is not a directory: set IAM_DATA_DIR to an empty one.`);
    entries = readdirSync(dataDir);
  } catch (e) {
    if (e instanceof CliError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CliError(`Cannot read ${dataDir}: ${(e as Error).message}`);
  }
  const allowed = new Set(['vault.sqlite', 'vault.sqlite-wal', 'vault.sqlite-shm', 'keys']);
  const others = entries.filter((name) => !allowed.has(name)).sort();
  if (others.length > 0)
    throw new CliError(
      `${dataDir} is not empty: it holds ${others.slice(0, 5).join(', ')}${others.length > 5 ? ` and ${others.length - 5} more` : ''}. ` +
        'Restore into an empty data directory (only vault.sqlite and keys/ may be there already).',
    );
}
