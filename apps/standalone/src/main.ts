import { jsonLogger, limitHeapGrowth } from '@arbor/application';
import { exitOnSignals, exitOnStartFailure } from '@arbor/runtime';
import { configFromEnv } from './standalone-config';
import { startStandalone } from './start-standalone';

/** `npm start`: the whole API in one process on the embedded profile. */
async function main(): Promise<void> {
  limitHeapGrowth();
  const config = configFromEnv();
  const log = jsonLogger({ app: 'standalone' }, config.logLevel);
  const running = await startStandalone({ ...config, collectStartupGarbage: true }, log);
  exitOnSignals(running, log);
  // Its HTTP workers keep dying (worker-pool.ts): stop, and exit 1 so that a supervisor sees the failure (the code is
  // set first: the close may end with nothing left on the event loop, and the process then exits by itself).
  void running.unrecoverable.then(() => {
    process.exitCode = 1;
    return running.close().then(
      () => process.exit(1),
      () => process.exit(1),
    );
  });
}

main().catch(exitOnStartFailure('arbor failed to start'));
