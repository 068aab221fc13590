import { jsonLogger } from '@arbor/application';
import { distributedSettingsFromEnv, exitOnSignals, exitOnStartFailure } from '@arbor/runtime';
import { startGateway } from './start-gateway';

/** `node apps/gateway/dist/main.js`: one gateway of the distributed profile (see startGateway). */
async function main(): Promise<void> {
  // Every variable is checked here (PORT, HOST, IAM_ISSUER, IAM_DATA_DIR, ...): a bad value stops the start.
  const settings = distributedSettingsFromEnv();
  const log = jsonLogger({ app: 'gateway' }, settings.logLevel);
  exitOnSignals(await startGateway(settings, log), log);
}

main().catch(exitOnStartFailure('gateway failed to start'));
