import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_EXPORT_USAGE, eventsExport } from './events-export';
import { EVENTS_VERIFY_USAGE, eventsVerify } from './events-verify';
import { KEYS_REVOKE_USAGE, KEYS_ROTATE_USAGE, keysRevoke, keysRotate } from './keys-rotate';
import { REBUILD_USAGE, rebuild } from './rebuild';
import { RESTORE_USAGE, restore } from './restore';
import { CliError, resetAdminPassword, type CliIo } from './reset-admin-password';

/**
 * `arbor <command>`: operator commands that work on a deployment's data. Exit codes: 0 done, 1 refused or
 * failed (the reason on stderr), 2 usage (an unknown command), 3 `events verify` or `restore` found the log broken. A
 * command resolves to its exit code, or to nothing for 0.
 */
const stderrProgress = () => ({
  isTTY: process.stderr.isTTY === true,
  write: (text: string) => process.stderr.write(text),
});

const COMMANDS: Record<string, (io: CliIo) => Promise<void | number>> = {
  'reset-admin-password': resetAdminPassword,
  'events export': (io) => eventsExport(io),
  'events tail': (io) => eventsExport(io, { follow: true }),
  'events verify': (io) => eventsVerify(io, stderrProgress()),
  'keys rotate': keysRotate,
  'keys revoke': keysRevoke,
  rebuild: (io) => rebuild(io, stderrProgress()),
  restore,
};

/** The release, from the CLI package's own package.json (apps/cli/package.json, beside dist/). */
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

const USAGE = `Usage: arbor <command>   (arbor --help, arbor --version; <command> --help or -h)

Commands:
  arbor reset-admin-password [--password-stdin]
      Set a new password for the platform admin, on the data of IAM_DATA_DIR (default ./data; the server
      must be stopped) or, with DATABASE_URL, of the distributed profile's PostgreSQL schema (IAM_PG_SCHEMA).
      The password is IAM_BOOTSTRAP_ADMIN_PASSWORD, or standard input with --password-stdin, or generated
      and printed once. Every session of the admin ends.
  ${EVENTS_EXPORT_USAGE}
      The event log as NDJSON on standard output, one public envelope per line in position order, personal data
      sealed: after a position (exclusive), up to a position or an RFC 3339 time (inclusive), one organization's
      subtree, some types. Reads while the server runs (IAM_DATA_DIR, or DATABASE_URL and IAM_PG_SCHEMA).
      --chain: the whole log (up to --until-position) as stored, each event with its prevHash and hash, for
      \`arbor events verify --file\`.
  arbor events tail [the same options]
      events export --follow: after the last event, waits for the next ones until interrupted.
  ${EVENTS_VERIFY_USAGE}
      Checks the hash chain of the whole event log while the server runs (IAM_DATA_DIR, or DATABASE_URL and
      IAM_PG_SCHEMA), or offline of an export written by \`arbor events export --chain\` (--file): exit 0 when
      every event is intact and in its place, 3 when one was altered, removed, inserted or reordered, or its
      request metadata removed without a recorded retention drop (the first is named; --json prints the report
      GET /api/v1/events/verify answers). With --jwks (the issuer's saved
      /.well-known/jwks.json) and --signed-head (the signedHead that GET /api/v1/events/verify answered), also
      that the export holds that event with that hash: nothing cut from its end or rewritten before it (else 3).
  ${KEYS_ROTATE_USAGE}
      Creates the next signing key in IAM_DATA_DIR/keys while the servers run: within a minute it is in the JWKS,
      and it signs tokens and log heads 10 minutes later (at once with --now, for a key that may have leaked).
      Old keys stay to verify what they signed. Keys also rotate every IAM_SIGNING_KEY_ROTATION_DAYS (90).
  ${KEYS_REVOKE_USAGE}
      Deletes a key that may have leaked: it leaves the JWKS and what it signed (tokens, log checkpoints and signed
      heads) no longer verifies; the servers drop it within a minute. Not the key that signs now: rotate --now first.
  ${REBUILD_USAGE}
      Drops the read models and replays the whole event log into them, with a progress bar and the rate on
      standard error. The server must be stopped (IAM_DATA_DIR); with DATABASE_URL, stop the projectors first.
  ${RESTORE_USAGE}
      Puts an export of \`arbor events export --chain\` back as the event log of an empty IAM_DATA_DIR, once it
      verifies (as events verify --file does; exit 3 and nothing written if not). The next start projects the
      read models; put vault.sqlite and keys/ beside it. The server signs what is restored: give the signed head
      of the export's end (events after it are refused, exit 3), or --trust-unsigned to vouch for an export no
      signed head covers. Checkpoints in the export need --jwks.
`;

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // Two-word commands (`events export`) before one-word ones.
  const twoWords = argv.length >= 2 ? `${argv[0]} ${argv[1]}` : undefined;
  const [name, args] =
    twoWords !== undefined && COMMANDS[twoWords] !== undefined ? [twoWords, argv.slice(2)] : [argv[0], argv.slice(1)];
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    if (name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (name === '--version') {
      process.stdout.write(`arbor ${VERSION}\n`);
      return 0;
    }
    // `arbor events bogus`: name what was asked of the group, not the group as if it did not exist.
    const group = Object.keys(COMMANDS)
      .filter((known) => known.startsWith(`${name} `))
      .map((known) => known.slice(name!.length + 1));
    const unknown =
      group.length > 0
        ? `"arbor ${name}" takes one of: ${group.join(', ')}${argv[1] === undefined ? '' : ` (not "${argv[1]}")`}.`
        : `Unknown command "${name}".`;
    process.stderr.write(name === undefined ? USAGE : `${unknown}\n\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const code = await command({
      env: process.env,
      args,
      readStdin,
      out: (line) => process.stdout.write(line + '\n'),
      write,
    });
    return code ?? 0;
  } catch (e) {
    process.stderr.write(`arbor ${name}: ${e instanceof CliError || e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** See CliIo.write. */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const more = process.stdout.write(text, (e) => e && reject(e));
    if (more) resolve();
    else process.stdout.once('drain', resolve);
  });
}

// A reader that went away (`arbor events export | head -1`) ends the command quietly, as for any Unix filter;
// any other output failure (a full disk) is an error.
const outputFailed = (e: NodeJS.ErrnoException): void => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`arbor: cannot write the output: ${e.message}\n`);
  process.exit(1);
};
process.stdout.on('error', outputFailed);

// Exits explicitly (the password hasher's worker threads would otherwise keep the process alive), once what was
// written to standard output has left: a pipe may still hold queued writes. A write that failed before (stdout
// errored: its 'error' event may not have run yet) or fails now is the command's failure, not a success.
const exit = (code: number): void =>
  void process.stdout.write('', (e) => {
    const failed = (process.stdout.errored ?? e) as NodeJS.ErrnoException | null | undefined;
    if (failed) outputFailed(failed);
    else process.exit(code);
  });
main().then(exit, (e) => {
  process.stderr.write(`arbor: ${String(e)}\n`);
  exit(1);
});
