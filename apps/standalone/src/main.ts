import { jsonLogger, limitHeapGrowth } from '@arbor/application';
import { exitOnSignals, exitOnStartFailure } from '@arbor/runtime';
import { configFromEnv } from './standalone-config';
import { startStandalone } from './start-standalone';

/** `npm start`: the whole API in one process on the embedded profile. */
async function main(): Promise<void> {
  limitHeapGrowth();
  const config = configFromEnv();
  const log = jsonLogger({ app: 'standalone' }, config.logLevel);
  exitOnSignals(await startStandalone({ ...config, collectStartupGarbage: true }, log), log);
}

main().catch(exitOnStartFailure('arbor failed to start'));
