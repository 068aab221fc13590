import { join } from 'node:path';
import {
  PersonalDataCipher,
  Projector,
  jsonLogger,
  type Bus,
  type EventStore,
  type Logger,
  type ReadModels,
  type SecretVault,
} from '@arbor/application';
import { InProcessBus } from '@arbor/in-process-bus';
import { KafkaBus } from '@arbor/kafka';
import { openPostgresEventStore, openPostgresReadModels, openPostgresSecretVault } from '@arbor/postgres';
import { dataDirFromEnv, distributedSettingsFromEnv, logLevelFromEnv } from '@arbor/runtime';
import { openSqliteEventStore, openSqliteReadModels, openSqliteSecretVault, startWalCheckpointer } from '@arbor/sqlite';

/**
 * The projector as a process of its own.
 *   with DATABASE_URL  the distributed profile: consumes iam.events.v1 as the consumer group
 *                      `arbor-projector-<schema>`, and projects into the PostgreSQL read models
 *   without            the embedded profile's files in IAM_DATA_DIR
 *   --rebuild          drop the read models, replay the whole log into them, print the rate and exit
 * Either way the log is the source: deliveries continue the checkpoint or trigger a catch-up from the log,
 * and a poll of the log every POLL_MS covers a silent bus (a broker outage costs latency, not events).
 */
const POLL_MS = 1000;

interface Engines {
  store: EventStore;
  readModels: ReadModels;
  vault: SecretVault;
  bus: Bus;
  /** Stops what runs beside the engines (the embedded profile's background checkpoints). */
  stopExtras?: () => Promise<void>;
}

async function openEngines(log: Logger, rebuild: boolean): Promise<Engines> {
  if (!process.env.DATABASE_URL) {
    const dataDir = dataDirFromEnv();
    const readModelsFile = join(dataDir, 'read-models.sqlite');
    // This process writes only the read models: their checkpoints run off the event loop.
    const checkpointer = startWalCheckpointer([readModelsFile], { onError: (file, error) => log.warn('background checkpoint failed', { file, error }) });
    return {
      store: openSqliteEventStore(join(dataDir, 'events.sqlite')),
      // Derived data: a corrupt file is set aside and rebuilt from the log, with a warning (also on --rebuild).
      readModels: openSqliteReadModels(readModelsFile, {
        backgroundCheckpoints: true,
        onCorruptSetAside: (report) => log.warn('read models corrupt: file set aside, rebuilding from the event log', report),
      }),
      vault: openSqliteSecretVault(join(dataDir, 'vault.sqlite')),
      bus: new InProcessBus(),
      stopExtras: () => checkpointer.stop(),
    };
  }
  const settings = distributedSettingsFromEnv();
  const connection = { schema: settings.schema };
  return {
    store: await openPostgresEventStore(settings.databaseUrl, connection),
    readModels: await openPostgresReadModels(settings.databaseUrl, connection),
    vault: await openPostgresSecretVault(settings.databaseUrl, connection),
    bus: rebuild
      ? new InProcessBus()
      : new KafkaBus({ brokers: settings.kafkaBrokers, groupId: `arbor-projector-${settings.schema}`, topic: settings.topic, logger: log }),
  };
}

async function main(): Promise<void> {
  // Checked, in either profile: an unknown level stops the start (it used to be cast unchecked).
  const log = jsonLogger({ app: 'projector' }, logLevelFromEnv());
  const rebuild = process.argv.includes('--rebuild');
  const { store, readModels, vault, bus, stopExtras } = await openEngines(log, rebuild);
  const projector = new Projector({ store, readModels, cipher: new PersonalDataCipher(vault), bus, log });
  await projector.start();
  const closeAll = async () => {
    await stopExtras?.();
    await Promise.allSettled([bus.close(), store.close(), readModels.close(), vault.close()]);
  };

  if (rebuild) {
    const started = process.hrtime.bigint();
    await projector.rebuild();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const events = projector.position;
    log.info('read models rebuilt', { events, seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(events / seconds) });
    await closeAll();
    return;
  }

  const timer = setInterval(() => void projector.catchUp(), POLL_MS);
  const stop = () => {
    clearInterval(timer);
    projector.stop();
    void closeAll().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  log.info('projector following the event log', { position: projector.position, profile: process.env.DATABASE_URL ? 'distributed' : 'embedded' });
}

main().catch((error) => {
  process.stderr.write(`projector failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
