import { join } from 'node:path';
import {
  ClientSecretHasher,
  ProjectionReadiness,
  collectStartupGarbage,
  CommandService,
  LoginThrottle,
  PasswordHasher,
  PersonalDataCipher,
  Projector,
  SealedSnapshotFile,
  SigningKeyRing,
  TokenAudiences,
  bootstrapPlatformAdmin,
  defaultAudience,
  ensurePrivateDirectory,
  startExpiryPurge,
  startKeyRotation,
  startChainCheckpoints,
  startWebhookDispatch,
  jsonLogger,
  type EventStore,
  type Logger,
  type ThrottleStore,
  type TokenStore,
} from '@arbor/application';
import {
  createApiApp,
  createApiContext,
  discoveryUrl,
  listenFirst,
  writeProbeFailure,
  type BoundPort,
} from '@arbor/api';
import { InProcessBus } from '@arbor/in-process-bus';
import {
  lockDataDir,
  logWalTruncation,
  type DataDirLock,
  openSqliteEventStore,
  openSqliteReadModels,
  openSqliteSecretVault,
  openSqliteThrottleStore,
  openSqliteSignInAuditStore,
  openSqliteTokenStore,
  openSqliteWebhookDeliveryStore,
  startWalCheckpointer,
} from '@arbor/sqlite';
import { OpenedSoFar, WebhookHttpTransport, closeInOrder, undoOnFailure } from '@arbor/runtime';
import type { StandaloneConfig } from './standalone-config';
import { forkWorkerPool, type WorkerPool } from './worker-pool';

export interface RunningStandalone {
  url: string;
  port: number;
  projector: Projector;
  /**
   * The adapters the app composed and its command service, for embedding programs and tests (the disk-full tests
   * reach their files; the retention tests run a purge round as of a later time).
   */
  stores: { tokenStore: TokenStore; throttleStore: ThrottleStore; eventStore: EventStore };
  commands: CommandService;
  /** The HTTP worker processes when IAM_WORKERS is above 1 (this process is then their writer); else absent. */
  workers?: WorkerPool;
  /**
   * Resolves (never rejects) when the app can no longer serve: its HTTP workers keep dying at start (worker-pool.ts).
   * `npm start`'s main then closes it and exits 1; pending for ever otherwise.
   */
  unrecoverable: Promise<Error>;
  close(): Promise<void>;
}

/**
 * The embedded profile's composition root: gateway, command service and projector in one process, over
 * SQLite files under the data directory and an in-process bus. Start order matters: the port is bound
 * first (a port in use fails the start before anything is created, so a generated admin password is never
 * printed by a start that then fails: see listenFirst); the command side and the projector catch up with the
 * log before the app answers a request (until then: 503 starting).
 */
export async function startStandalone(
  config: StandaloneConfig,
  log: Logger = jsonLogger({ app: 'standalone' }, config.logLevel),
): Promise<RunningStandalone> {
  const bound = await listenFirst(config.port, config.host ?? '0.0.0.0');
  try {
    return await startOnPort(bound, config, log);
  } catch (error) {
    await bound.close();
    throw error;
  }
}

async function startOnPort(bound: BoundPort, config: StandaloneConfig, log: Logger): Promise<RunningStandalone> {
  // Owner-only, also when it existed wider; every file in it is opened 0600 (README, the data-dir table).
  ensurePrivateDirectory(config.dataDir);
  // The directory is this process's while it runs: operator commands (`arbor reset-admin-password`) refuse
  // to write under a running server, and a second server refuses to start on it.
  const lock = lockDataDir(config.dataDir);
  // A failed start closes what it had opened (OpenedSoFar: last to first), the lock last of all.
  try {
    return await undoOnFailure((opened) => startOnLockedDir(bound, config, log, lock, opened));
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function startOnLockedDir(
  bound: BoundPort,
  config: StandaloneConfig,
  log: Logger,
  lock: DataDirLock,
  /** Each thing opened adds its closing here at once (a start that fails later must not leave it open). */
  opened: OpenedSoFar,
): Promise<RunningStandalone> {
  const files = {
    events: join(config.dataDir, 'events.sqlite'),
    readModels: join(config.dataDir, 'read-models.sqlite'),
    signIns: join(config.dataDir, 'sign-ins.sqlite'),
  };
  // Deletions whose old bytes must leave the WAL (erasure, retention): told when that stays refused or fails.
  const reportWalTruncation = logWalTruncation(log);
  const store = openSqliteEventStore(files.events, { backgroundCheckpoints: true, reportWalTruncation });
  opened.add(store);
  // Derived data: a corrupt file is set aside and rebuilt from the log (openSqliteReadModels), with a warning.
  const readModels = openSqliteReadModels(files.readModels, {
    backgroundCheckpoints: true,
    subtreeCacheEntries: config.subtreeCacheEntries,
    reportWalTruncation,
    onCorruptSetAside: (report) =>
      log.warn('read models corrupt: file set aside, rebuilding from the event log', report),
  });
  opened.add(readModels);
  // A record for every token issued and every sign-in, written by this process and every HTTP worker.
  const signInAuditStore = openSqliteSignInAuditStore(files.signIns, {
    backgroundCheckpoints: true,
    reportWalTruncation,
  });
  opened.add(signInAuditStore);
  // The files that take every write (the sign-ins: every grant): their checkpoints run off the event loops. Opened
  // and migrated above, so the checkpointer's connections find them in WAL mode.
  const checkpointer = startWalCheckpointer([files.events, files.readModels, files.signIns], {
    onError: (file, error) => log.warn('background checkpoint failed', { file, error }),
  });
  opened.onUndo(() => checkpointer.stop());
  const vault = openSqliteSecretVault(join(config.dataDir, 'vault.sqlite'), { reportWalTruncation });
  opened.add(vault);
  const tokenStore = openSqliteTokenStore(join(config.dataDir, 'tokens.sqlite'));
  opened.add(tokenStore);
  const throttleStore = openSqliteThrottleStore(join(config.dataDir, 'throttle.sqlite'));
  opened.add(throttleStore);
  const webhookDeliveries = openSqliteWebhookDeliveryStore(join(config.dataDir, 'webhooks.sqlite'));
  opened.add(webhookDeliveries);
  const webhookTransport = new WebhookHttpTransport({ allowPrivateTargets: config.webhooksAllowPrivateTargets });
  opened.add(webhookTransport);
  const keys = opened.add(SigningKeyRing.loadOrCreate(config.dataDir));
  // The HTTP workers (IAM_WORKERS above 1) start now, on the files opened and migrated above, while this process
  // catches up with the log; they serve once it has (workers.open below).
  const workerCount = config.workers ?? 1;
  let giveUp: (reason: Error) => void = () => undefined;
  const unrecoverable = new Promise<Error>((resolve) => (giveUp = resolve));
  const workers = workerCount > 1 ? forkWorkerPool({ count: workerCount, config, log, onGiveUp: giveUp }) : undefined;
  if (workers) opened.onUndo(() => workers.stop(0));
  const bus = new InProcessBus();
  opened.add(bus);
  const cipher = new PersonalDataCipher(vault);
  const hasher = opened.add(new PasswordHasher({ costLog2: config.passwordCostLog2 }));
  const secrets = new ClientSecretHasher(vault);

  const snapshots = new SealedSnapshotFile(join(config.dataDir, 'command-model.snapshot'), vault);
  // One throttle for the token endpoint and the command service: a wrong current password of a password
  // change counts as a failed login does.
  const throttle = new LoginThrottle(throttleStore, vault);
  const commands = new CommandService({ store, bus, vault, cipher, hasher, secrets, throttle, log, snapshots });
  const started = Date.now();
  await commands.start();
  opened.add(commands); // its last snapshot, once started
  const commandModelMs = Date.now() - started;
  const projector = new Projector({ store, readModels, cipher, bus, log });
  opened.onUndo(() => projector.stop());
  await projector.start();
  log.info('caught up with the event log', {
    position: projector.position,
    commandModelMs,
    readModelsMs: Date.now() - started - commandModelMs,
  });
  await bootstrapPlatformAdmin(
    commands,
    { email: config.bootstrapAdminEmail, password: config.bootstrapAdminPassword },
    log,
  );

  const projectionReadiness = new ProjectionReadiness();
  const ctx = createApiContext({
    commands,
    readModels,
    projection: projector,
    vault,
    tokenStore,
    throttleStore,
    throttle,
    hasher,
    eventStore: store,
    keys,
    issuer: config.issuer,
    auditRetentionDays: config.auditRetentionDays,
    signInAuditStore,
    audiences: new TokenAudiences(config.audience ?? defaultAudience(config.issuer), config.resources ?? []),
    log,
    allowPrivateWebhookTargets: config.webhooksAllowPrivateTargets,
    webhookDeliveries,
    readiness: async () => {
      const head = await store.headPosition();
      // The log must take a write, not only answer reads: a full disk fails every write while reads work.
      const writable = await store.probeWrite().then(() => 'ok', writeProbeFailure);
      const checks = {
        eventStore: writable,
        bus: 'ok',
        projections: projector.healthy ? projectionReadiness.check(projector.position, head) : 'failing',
      };
      return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
    },
  });
  const port = bound.port;
  // Start-up's garbage (the snapshot's JSON, the catch-up) goes before anything is served, not ~30 s later.
  const startupGcMs = config.collectStartupGarbage ? Math.round(collectStartupGarbage()) : undefined;
  // IAM_WORKERS above 1: this process stays the writer and HTTP workers serve the port (worker-pool.ts); they were
  // forked above and have composed meanwhile.
  if (workers) await workers.open({ ctx, projector, eventLog: store, port, release: () => bound.close() });
  // Expired refresh tokens, revocations of expired access tokens and expired idempotency records no longer
  // matter, and what they hold must not stay at rest: drop them at start and hourly; and request metadata past
  // its retention (IAM_AUDIT_RETENTION_DAYS).
  const purge = startExpiryPurge({
    tokenStore,
    eventStore: store,
    log,
    auditRetentionDays: config.auditRetentionDays,
    signInAudit: signInAuditStore,
    // Each drop is recorded first, as the system (RequestMetadataDropped): the chain verifier accepts only those.
    recordDrop: async (before, orgId) => {
      await commands.execute({ type: 'RecordRequestMetadataDrop', before, orgId }, { principal: 'system' });
    },
  });
  // Webhooks (contract section 10): the dispatcher wakes each time the projector has applied a batch, so that what
  // it may deliver (up to the read models' checkpoint) is there, and a new subscription's first events are not
  // waited for until the next poll.
  const webhooks = startWebhookDispatch({
    store,
    projectedPosition: async () => projector.position,
    subscriptions: readModels.webhooks,
    secrets: vault,
    deliveries: webhookDeliveries,
    transport: webhookTransport,
    commands,
    log,
    owner: `embedded-${process.pid}`,
    options: config.webhookDispatch,
  });
  const unsubscribeWebhooks = projector.onCheckpoint(() => webhooks.wake());
  const rotation = startKeyRotation(keys, { rotationDays: config.signingKeyRotationDays ?? 90, log });
  const checkpointSeconds = config.logCheckpointSeconds ?? 300;
  const checkpoints =
    checkpointSeconds > 0
      ? startChainCheckpoints({ store, keys, issuer: config.issuer, log, everyMs: checkpointSeconds * 1000 })
      : undefined;

  if (!workers)
    bound.serve(
      createApiApp(ctx, {
        validateResponses: config.validateResponses,
        benchRoutes: config.benchRoutes ?? false,
        trustedProxies: config.trustedProxies,
        corsOrigins: config.corsOrigins,
      }),
    );
  // The issuer, not the port, is where clients must reach Arbor (see discoveryUrl): say it where people look.
  log.info('arbor listening', {
    port,
    dataDir: config.dataDir,
    issuer: config.issuer,
    discovery: discoveryUrl(config.issuer),
    profile: 'embedded',
    workers: workerCount,
    startupGcMs,
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    projector,
    stores: { tokenStore, throttleStore, eventStore: store },
    commands,
    workers,
    unrecoverable,
    close: () =>
      // Each step even when one before it fails (closeInOrder): a store that does not close must not keep the
      // others, the hashing threads or the lock.
      (closing ??= closeInOrder(
        () => bound.close(),
        () => workers?.stop(),
        () => {
          purge.stop();
          rotation.stop();
          keys.close();
          checkpoints?.stop();
          unsubscribeWebhooks();
        },
        () => webhooks.stop(),
        () => webhookTransport.close(),
        () => projector.stop(),
        () => bus.close(),
        () => commands.close(),
        () => hasher.close(),
        () => checkpointer.stop(),
        () => store.close(),
        () => readModels.close(),
        () => vault.close(),
        () => tokenStore.close(),
        () => throttleStore.close(),
        () => signInAuditStore.close(),
        () => webhookDeliveries.close(),
        () => lock.release(),
      )),
  };
}
