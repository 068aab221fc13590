import { CliError, resetAdminPassword, type CliIo } from './reset-admin-password';

/**
 * `arbor <command>`: operator commands that work on a deployment's data. One so far; a later issue adds the
 * rest. Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 usage.
 */
const COMMANDS: Record<string, (io: CliIo) => Promise<void>> = {
  'reset-admin-password': resetAdminPassword,
};

const USAGE = `Usage: arbor <command>

Commands:
  reset-admin-password [--password-stdin]
      Set a new password for the platform admin, on the data of IAM_DATA_DIR (default ./data; the server
      must be stopped) or, with DATABASE_URL, of the distributed profile's PostgreSQL schema (IAM_PG_SCHEMA).
      The password is IAM_BOOTSTRAP_ADMIN_PASSWORD, or standard input with --password-stdin, or generated
      and printed once. Every session of the admin ends.
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
  const [name, ...args] = process.argv.slice(2);
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    if (name === '--help' || name === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(name === undefined ? USAGE : `Unknown command "${name}".\n\n${USAGE}`);
    return 2;
  }
  try {
    await command({ env: process.env, args, readStdin, out: (line) => process.stdout.write(line + '\n') });
    return 0;
  } catch (e) {
    process.stderr.write(`arbor ${name}: ${e instanceof CliError || e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// Exits explicitly: the password hasher's worker threads would otherwise keep the process alive.
main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`arbor: ${String(e)}\n`);
    process.exit(1);
  },
);
