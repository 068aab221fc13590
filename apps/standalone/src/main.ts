import { jsonLogger, limitHeapGrowth } from '@arbor/application';
import { configFromEnv } from './standalone-config';
import { startStandalone } from './start-standalone';

/** `npm start`: the whole API in one process on the embedded profile. */
async function main(): Promise<void> {
  limitHeapGrowth();
  const config = configFromEnv();
  const log = jsonLogger({ app: 'standalone' }, config.logLevel);
  const running = await startStandalone(config, log);
  const stop = (signal: string) => {
    log.info('shutting down', { signal });
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`arbor failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
