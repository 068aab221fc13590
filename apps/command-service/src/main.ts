import { jsonLogger, limitHeapGrowth } from '@arbor/application';
import { distributedSettingsFromEnv, exitOnSignals, exitOnStartFailure } from '@arbor/runtime';
import { startCommandService } from './start-command-service';

/** `node apps/command-service/dist/main.js`: one command service of the distributed profile (see startCommandService). */
async function main(): Promise<void> {
  limitHeapGrowth();
  const settings = distributedSettingsFromEnv();
  const log = jsonLogger({ app: 'command-service' }, settings.logLevel);
  exitOnSignals(await startCommandService(settings, log), log);
}

main().catch(exitOnStartFailure('command service failed to start'));
