import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  SealedSnapshotFile,
  jsonLogger,
  type Bus,
  type CommandModelSnapshotStore,
  type EventStore,
  type SecretVault,
} from '@arbor/application';
import { openPostgresEventStore, openPostgresSecretVault } from '@arbor/postgres';
import { lockDataDir, openSqliteEventStore, openSqliteSecretVault } from '@arbor/sqlite';
import { CliError, parseOptionsOnce, type CliIo } from './cli-io';
import { deploymentOf } from './deployment';

export { CliError, type CliIo } from './cli-io';

interface Engines {
  store: EventStore;
  vault: SecretVault;
  /** The embedded profile's snapshot, read only (the server owns writing it). */
  snapshots?: CommandModelSnapshotStore;
  close(): Promise<void>;
}

/**
 * `arbor reset-admin-password`: sets the platform admin's password on the server's own data, for an operator
 * who lost it. The same command a platform admin's `PUT /users/{id}/password` runs (SetUserPassword), run as
 * the `system` actor: the log records a UserPasswordSet (no secret in it), the vault the new hash, and every
 * session of the admin ends. The password comes from IAM_BOOTSTRAP_ADMIN_PASSWORD, from standard input with
 * `--password-stdin`, or is generated and printed once.
 *
 * Embedded profile (no DATABASE_URL): the files of IAM_DATA_DIR (default ./data). It refuses while the server
 * runs on them (see lockDataDir): SQLite would take the second writer safely, but the server's projector would
 * not see the event until its next write, so the admin's sessions would not end until then. Distributed
 * (DATABASE_URL, IAM_PG_SCHEMA): the PostgreSQL event store and vault, while the deployment runs (appends
 * serialise on the store's advisory lock; the projectors and the relay poll the log and pick the event up).
 */
export async function resetAdminPassword(io: CliIo): Promise<void> {
  parseOptionsOnce(io.args, { 'password-stdin': 'boolean' }, 'arbor reset-admin-password [--password-stdin]');
  const { password, generated } = await chosenPassword(io);
  const engines = await openEngines(io.env);
  const hasher = new PasswordHasher();
  try {
    const log = jsonLogger({ app: 'arbor-cli' }, 'warn');
    const noBus: Bus = {
      publish: async () => undefined,
      subscribe: () => () => undefined,
      close: async () => undefined,
    };
    const commands = new CommandService({
      store: engines.store,
      bus: noBus,
      vault: engines.vault,
      cipher: new PersonalDataCipher(engines.vault),
      hasher,
      secrets: new ClientSecretHasher(engines.vault),
      log,
      snapshots: engines.snapshots,
    });
    await commands.start();
    const adminId = commands.platformAdminId;
    if (adminId === undefined)
      throw new CliError('There is no platform admin yet: start the server once, and it creates one.');
    // A generated password is shown before it is set: one nobody could read (standard output on a full disk) is
    // never set, so the admin is not locked out by the reset meant to let them in.
    if (generated)
      await io.write(`New password: ${password} (shown once)\n`).catch((e: unknown) => {
        throw new CliError(`Cannot write the output, so the password was not reset: ${String(e)}`);
      });
    await commands.execute({ type: 'SetUserPassword', userId: adminId, password }, { principal: 'system' });
    io.out(`The password of the platform admin (${adminId}) is reset; every session of theirs has ended.`);
  } finally {
    await hasher.close();
    await engines.close();
  }
}

async function chosenPassword(io: CliIo): Promise<{ password: string; generated: boolean }> {
  let password: string | undefined;
  if (io.args.includes('--password-stdin')) password = (await io.readStdin()).replace(/\r?\n$/, '');
  else if (io.env.IAM_BOOTSTRAP_ADMIN_PASSWORD) password = io.env.IAM_BOOTSTRAP_ADMIN_PASSWORD;
  if (password === undefined) return { password: randomBytes(18).toString('base64url'), generated: true };
  // The rules of every password (FieldChecks.password) are checked again by the command; this only words it.
  if ([...password].length < 8) throw new CliError('The password must be at least 8 characters.');
  return { password, generated: false };
}

async function openEngines(env: NodeJS.ProcessEnv): Promise<Engines> {
  const deployment = deploymentOf(env);
  if (deployment.profile === 'distributed') {
    const { databaseUrl, schema } = deployment;
    const store = await openPostgresEventStore(databaseUrl, { schema });
    const vault = await openPostgresSecretVault(databaseUrl, { schema });
    return { store, vault, close: async () => void (await Promise.allSettled([store.close(), vault.close()])) };
  }
  const { dataDir } = deployment;
  let lock;
  try {
    lock = lockDataDir(dataDir);
  } catch (e) {
    throw new CliError(
      `${e instanceof Error ? e.message : String(e)} The reset writes to the server's files: stop the server, reset, start it again.`,
    );
  }
  const store = openSqliteEventStore(join(dataDir, 'events.sqlite'));
  const vault = openSqliteSecretVault(join(dataDir, 'vault.sqlite'));
  const file = new SealedSnapshotFile(join(dataDir, 'command-model.snapshot'), vault);
  // Read only: a snapshot this short-lived process wrote would only cost the server's next start a check.
  const snapshots: CommandModelSnapshotStore = {
    load: () => file.load(),
    save: async () => undefined,
    discard: async () => undefined,
  };
  return {
    store,
    vault,
    snapshots,
    close: async () => {
      await store.close();
      await vault.close();
      lock.release();
    },
  };
}
