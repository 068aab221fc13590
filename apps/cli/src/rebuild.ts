import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  PersonalDataCipher,
  Projector,
  jsonLogger,
  type Bus,
  type EventStore,
  type ReadModels,
  type SecretVault,
} from '@arbor/application';
import { openPostgresEventStore, openPostgresSecretVault } from '@arbor/postgres';
import { guardProjectorWrites, openDistributedReadModels } from '@arbor/read-side';
import { parseReadModelsUrl } from '@arbor/runtime';
import { lockDataDir, openSqliteEventStore, openSqliteReadModels, openSqliteSecretVault } from '@arbor/sqlite';
import { deploymentOf } from './deployment';
import { CliError, type CliIo } from './reset-admin-password';

export const REBUILD_USAGE = 'arbor rebuild';

/** What the rebuild writes besides its result: progress, on standard error. */
export interface ProgressOut {
  /** Whether it is a terminal: then one line redrawn in place; otherwise a line per tenth. */
  isTTY: boolean;
  write(text: string): void;
}

interface Engines {
  store: EventStore;
  readModels: ReadModels;
  vault: SecretVault;
  close(): Promise<void>;
}

/**
 * `arbor rebuild`: drops the read models and replays the whole event log into them (Projector.rebuild), with a
 * progress bar and the rate on standard error and one result line on standard output:
 * `Rebuilt the read models: <n> events in <s> s (<rate> events/s).` Personal data is opened with the vault, as
 * the projector does; events of erased users project as erased.
 *
 * Embedded (no DATABASE_URL): the files of IAM_DATA_DIR (default ./data); refused while the server runs on them
 * (arbor.lock), since its projector writes the same read models. Distributed (DATABASE_URL, IAM_PG_SCHEMA): the
 * PostgreSQL read models, or MongoDB's with READ_MODELS_URL (as the processes read it, libs/read-side); stop the
 * projectors first (gateways keep answering, from read models being rebuilt). On MongoDB a projector still
 * running is refused (it holds the one-projector lease).
 * Errors (CliError, exit 1): an option given, no data, no vault (every user would read as erased), the server
 * running, a replay that failed.
 */
export async function rebuild(io: CliIo, progress: ProgressOut): Promise<void> {
  if (io.args.length > 0) throw new CliError(`Unknown option ${io.args[0]}. Usage: ${REBUILD_USAGE}`);
  const engines = await openEngines(io.env);
  try {
    const noBus: Bus = {
      publish: async () => undefined,
      subscribe: () => () => undefined,
      close: async () => undefined,
    };
    const log = jsonLogger({ app: 'arbor-cli' }, 'silent');
    const projector = new Projector({
      store: engines.store,
      readModels: engines.readModels,
      cipher: new PersonalDataCipher(engines.vault),
      bus: noBus,
      log,
    });
    const head = await engines.store.headPosition();
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const bar = progressBar(progress, head, seconds);
    try {
      await projector.rebuild({ onProgress: bar.update });
    } finally {
      // No retry of a failed batch here: the command reports it.
      await projector.stop();
    }
    if (!projector.healthy || projector.position < head) {
      const failure = projector.lastFailure;
      const why =
        failure === undefined ? 'the log ended early' : failure instanceof Error ? failure.message : String(failure);
      throw new CliError(`The replay stopped at position ${projector.position} of ${head}: ${why}`);
    }
    bar.done();
    const s = seconds();
    io.out(
      `Rebuilt the read models: ${projector.position} events in ${s.toFixed(1)} s (${Math.round(projector.position / Math.max(s, 1e-6))} events/s).`,
    );
  } finally {
    await engines.close();
  }
}

/** A bar of 30 cells, the count and the rate; redrawn in place on a terminal, a line per tenth elsewhere. */
function progressBar(out: ProgressOut, head: number, seconds: () => number) {
  let shownTenth = -1;
  const line = (position: number): string => {
    const share = head === 0 ? 1 : position / head;
    const cells = Math.round(share * 30);
    const rate = Math.round(position / Math.max(seconds(), 1e-6));
    return `[${'#'.repeat(cells)}${' '.repeat(30 - cells)}] ${Math.floor(share * 100)}% ${position}/${head} events, ${rate} events/s`;
  };
  return {
    update: (position: number) => {
      if (out.isTTY) out.write(`\r${line(position)}`);
      else {
        const tenth = head === 0 ? 10 : Math.floor((position / head) * 10);
        if (tenth > shownTenth) {
          shownTenth = tenth;
          out.write(`${line(position)}\n`);
        }
      }
    },
    done: () => {
      if (out.isTTY) out.write('\n');
    },
  };
}

async function openEngines(env: NodeJS.ProcessEnv): Promise<Engines> {
  const deployment = deploymentOf(env);
  if (deployment.profile === 'distributed') {
    const { databaseUrl, schema } = deployment;
    let target;
    try {
      target = parseReadModelsUrl(env.READ_MODELS_URL, schema);
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
    const settings = { databaseUrl, schema, readModels: target };
    const [store, readModels, vault] = await Promise.all([
      openPostgresEventStore(databaseUrl, { schema }),
      openDistributedReadModels(settings),
      openPostgresSecretVault(databaseUrl, { schema }),
    ]);
    const closeAll = async () => void (await Promise.allSettled([store.close(), readModels.close(), vault.close()]));
    let guard;
    try {
      guard = await guardProjectorWrites(settings, readModels, {
        mode: 'refuse',
        log: jsonLogger({ app: 'arbor-cli' }, 'silent'),
      });
    } catch (e) {
      await closeAll();
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
    return {
      store,
      readModels,
      vault,
      close: async () => {
        await guard.release().catch(() => undefined);
        await closeAll();
      },
    };
  }
  const { dataDir } = deployment;
  // Without the vault every user's personal data would project as erased, and the read models being dropped may
  // be the last readable copy of it.
  if (!existsSync(join(dataDir, 'vault.sqlite')))
    throw new CliError(`No vault.sqlite in ${dataDir}: without it every user would read as erased. Restore it first.`);
  let lock;
  try {
    lock = lockDataDir(dataDir);
  } catch (e) {
    throw new CliError(
      `${e instanceof Error ? e.message : String(e)} The server projects into the same read models: stop it, rebuild, start it again.`,
    );
  }
  const store = openSqliteEventStore(join(dataDir, 'events.sqlite'));
  const readModels = openSqliteReadModels(join(dataDir, 'read-models.sqlite'));
  const vault = openSqliteSecretVault(join(dataDir, 'vault.sqlite'));
  return {
    store,
    readModels,
    vault,
    close: async () => {
      await Promise.allSettled([store.close(), readModels.close(), vault.close()]);
      lock.release();
    },
  };
}
