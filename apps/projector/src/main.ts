import { join } from 'node:path';
import { PersonalDataCipher, Projector, jsonLogger } from '@arbor/application';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteReadModels, openSqliteSecretVault } from '@arbor/sqlite';

/**
 * The projector as a process of its own, over the embedded profile's files in IAM_DATA_DIR.
 *   --rebuild   drop the read models, replay the whole event log into them, print the rate and exit
 *   (default)   follow the log, polling for new events, until SIGINT/SIGTERM
 * The distributed profile (PostgreSQL, Kafka) runs the same Projector class against other adapters.
 */
async function main(): Promise<void> {
  const dataDir = process.env.IAM_DATA_DIR || './data';
  const log = jsonLogger({ app: 'projector' });
  const store = openSqliteEventStore(join(dataDir, 'events.sqlite'));
  const readModels = openSqliteReadModels(join(dataDir, 'read-models.sqlite'));
  const vault = openSqliteSecretVault(join(dataDir, 'vault.sqlite'));
  const bus = new InProcessBus();
  const projector = new Projector({ store, readModels, cipher: new PersonalDataCipher(vault), bus, log });
  await projector.start();

  if (process.argv.includes('--rebuild')) {
    const started = process.hrtime.bigint();
    await projector.rebuild();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const events = projector.position;
    log.info('read models rebuilt', { events, seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(events / seconds) });
    await Promise.all([store.close(), readModels.close(), vault.close()]);
    return;
  }

  const timer = setInterval(() => void projector.catchUp(), 200);
  const stop = () => {
    clearInterval(timer);
    projector.stop();
    void Promise.all([store.close(), readModels.close(), vault.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  log.info('projector following the event log', { dataDir, position: projector.position });
}

main().catch((error) => {
  process.stderr.write(`projector failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
