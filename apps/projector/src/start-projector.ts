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
import { openPostgresEventStore, openPostgresSecretVault } from '@arbor/postgres';
import { guardProjectorWrites, openDistributedReadModels } from '@arbor/read-side';
import { closeInOrder, undoOnFailure, type OpenedSoFar, type ProjectorConfig, type Running } from '@arbor/runtime';
import {
  logWalTruncation,
  openSqliteEventStore,
  openSqliteReadModels,
  openSqliteSecretVault,
  startWalCheckpointer,
} from '@arbor/sqlite';

/**
 * The projector as a process of its own.
 *   distributed  consumes iam.events.v1 as the consumer group `arbor-projector-<schema>`, and projects into
 *                the PostgreSQL read models, or MongoDB's with READ_MODELS_URL (libs/read-side): there one
 *                projector writes at a time (a lease in the database; a second one waits for it)
 *   embedded     the embedded profile's files in IAM_DATA_DIR
 * Either way the log is the source: deliveries continue the checkpoint or trigger a catch-up from the log,
 * and a poll of the log every POLL_MS covers a silent bus (a broker outage costs latency, not events).
 *
 * POLL_MS bounds what a write waits for its read-your-writes while the bus is silent: a broker outage, and the
 * first ~30 s after a projector restarted in place of one that died, or of one stopped during a rebalance that
 * could not leave the group in time (libs/kafka CLOSE_WAIT_MS): the group keeps such a member's partitions until its
 * session times out, kafkajs' default 30 s; a shorter one would evict a member busy with a long catch-up. At 1 s every write waited about a second then (review finding); a poll is one indexed read of the
 * log past the checkpoint, ten a second are nothing beside the writes it serves.
 */
export const POLL_MS = 100;

/** A started projector: its position in the log, and how to stop it. */
export interface RunningProjector extends Running {
  projector: Projector;
}

interface Engines {
  store: EventStore;
  readModels: ReadModels;
  vault: SecretVault;
  bus: Bus;
  /** Stops what runs beside the engines (the embedded profile's background checkpoints, the MongoDB lease). */
  stopExtras?: () => Promise<void>;
}

/** What the projector does when its lease on MongoDB read models is lost (its writes are refused already). */
export type OnLeaseLost = (reason: string) => void;

/** Opens the projector's engines; each adds its closing to `opened` at once (see openProjector). */
async function openEngines(
  config: ProjectorConfig,
  log: Logger,
  rebuild: boolean,
  onLeaseLost: OnLeaseLost,
  opened: OpenedSoFar,
): Promise<Engines> {
  if (config.profile === 'embedded') {
    const readModelsFile = join(config.dataDir, 'read-models.sqlite');
    // This process writes only the read models: their checkpoints run off the event loop.
    const checkpointer = startWalCheckpointer([readModelsFile], {
      onError: (file, error) => log.warn('background checkpoint failed', { file, error }),
    });
    opened.onUndo(() => checkpointer.stop());
    const reportWalTruncation = logWalTruncation(log);
    return {
      store: opened.add(openSqliteEventStore(join(config.dataDir, 'events.sqlite'), { reportWalTruncation })),
      // Derived data: a corrupt file is set aside and rebuilt from the log, with a warning (also on --rebuild).
      readModels: opened.add(
        openSqliteReadModels(readModelsFile, {
          backgroundCheckpoints: true,
          reportWalTruncation,
          onCorruptSetAside: (report) =>
            log.warn('read models corrupt: file set aside, rebuilding from the event log', report),
        }),
      ),
      vault: opened.add(openSqliteSecretVault(join(config.dataDir, 'vault.sqlite'), { reportWalTruncation })),
      bus: opened.add(new InProcessBus()),
      stopExtras: () => checkpointer.stop(),
    };
  }
  const { settings } = config;
  const connection = { schema: settings.schema };
  const readModels = opened.add(await openDistributedReadModels(settings));
  // MongoDB read models: wait for (or, rebuilding, refuse without) the one-projector lease before any write.
  const guard = await guardProjectorWrites(settings, readModels, {
    mode: rebuild ? 'refuse' : 'wait',
    log,
    onLost: onLeaseLost,
  });
  opened.onUndo(() => guard.release());
  return {
    store: opened.add(await openPostgresEventStore(settings.databaseUrl, connection)),
    readModels,
    vault: opened.add(await openPostgresSecretVault(settings.databaseUrl, connection)),
    stopExtras: () => guard.release(),
    bus: opened.add(
      rebuild
        ? new InProcessBus()
        : new KafkaBus({
            brokers: settings.kafkaBrokers,
            groupId: `arbor-projector-${settings.schema}`,
            topic: settings.topic,
            logger: log,
          }),
    ),
  };
}

/**
 * Opens the engines and starts a projector on them (caught up with the log); `closeAll` closes the engines. A
 * failure on the way (an engine that does not open, a catch-up that fails) closes what had opened, then throws.
 */
async function openProjector(
  config: ProjectorConfig,
  log: Logger,
  rebuild: boolean,
  onLeaseLost: OnLeaseLost,
): Promise<{ projector: Projector; closeAll: () => Promise<void> }> {
  return undoOnFailure(async (opened) => {
    const { store, readModels, vault, bus, stopExtras } = await openEngines(config, log, rebuild, onLeaseLost, opened);
    const closeAll = () =>
      closeInOrder(
        () => stopExtras?.(),
        () => Promise.allSettled([bus.close(), store.close(), readModels.close(), vault.close()]),
      );
    const projector = new Projector({ store, readModels, cipher: new PersonalDataCipher(vault), bus, log });
    opened.onUndo(() => projector.stop());
    await projector.start();
    return { projector, closeAll };
  });
}

/**
 * Follows the event log into the read models until close(): bus deliveries, plus a poll every `pollMs`
 * (default POLL_MS). close() stops the poll and the projector, then closes the bus and the engines (and frees
 * the MongoDB lease). Should that lease be lost (another projector took it after this one could not renew it),
 * its writes are refused from then on, the error is logged, the projector is closed and `onLeaseLost` is called
 * (main.ts exits 1 there, for a supervisor to start it again as a waiting projector).
 */
export async function startProjector(
  config: ProjectorConfig,
  log: Logger = jsonLogger({ app: 'projector' }, config.logLevel),
  pollMs = POLL_MS,
  onLeaseLost: OnLeaseLost = () => undefined,
): Promise<RunningProjector> {
  // Filled in once started: a loss before that (during the catch-up of the start) calls onLeaseLost at once.
  const started: { running?: RunningProjector } = {};
  const lost = (reason: string) => {
    log.error('projector lease lost: stopping', { reason });
    void (started.running?.close() ?? Promise.resolve()).finally(() => onLeaseLost(reason));
  };
  const { projector, closeAll } = await openProjector(config, log, false, lost);
  const timer = setInterval(() => projector.poll(), pollMs);
  log.info('projector following the event log', { position: projector.position, profile: config.profile });
  let closing: Promise<void> | undefined;
  const running: RunningProjector = {
    projector,
    close: () =>
      (closing ??= closeInOrder(
        () => clearInterval(timer),
        () => projector.stop(),
        closeAll,
      )),
  };
  started.running = running;
  return running;
}

/**
 * `--rebuild`: drops the read models, replays the whole log into them, logs `read models rebuilt` with the
 * count and rate, closes everything and returns the count and the seconds it took.
 */
export async function rebuildReadModels(
  config: ProjectorConfig,
  log: Logger = jsonLogger({ app: 'projector' }, config.logLevel),
): Promise<{ events: number; seconds: number }> {
  const { projector, closeAll } = await openProjector(config, log, true, (reason) =>
    log.error('projector lease lost during the rebuild', { reason }),
  );
  const started = process.hrtime.bigint();
  try {
    await projector.rebuild();
    // A replay that fails partway does not throw (the projector logs it and would retry): it must not be a success.
    if (!projector.healthy)
      throw new Error(`The replay stopped at position ${projector.position}; see the error above.`);
  } catch (e) {
    await projector.stop(); // its retry timer, against engines about to close
    await closeAll().catch(() => undefined); // the rebuild's own error is the one to report
    throw e;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const events = projector.position;
  log.info('read models rebuilt', {
    events,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(events / seconds),
  });
  await projector.stop();
  await closeAll();
  return { events, seconds };
}
