import { jsonLogger } from '@arbor/application';
import { exitOnSignals, exitOnStartFailure, projectorConfigFromEnv } from '@arbor/runtime';
import { rebuildReadModels, startProjector } from './start-projector';

/**
 * `node apps/projector/dist/main.js [--rebuild]`: the projector as a process of its own (see startProjector);
 * with DATABASE_URL the distributed profile, without it the embedded profile's files in IAM_DATA_DIR.
 * `--rebuild` drops the read models, replays the whole log into them, prints the rate and exits.
 */
async function main(): Promise<void> {
  // Checked, in either profile: an unknown level stops the start (it used to be cast unchecked).
  const config = projectorConfigFromEnv();
  const log = jsonLogger({ app: 'projector' }, config.logLevel);
  if (process.argv.includes('--rebuild')) await rebuildReadModels(config, log);
  // A lost lease on MongoDB read models (see startProjector): exit 1 once closed, for a supervisor to restart it.
  else exitOnSignals(await startProjector(config, log, undefined, () => process.exit(1)), log);
}

main().catch(exitOnStartFailure('projector failed'));
