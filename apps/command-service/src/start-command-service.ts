import express from 'express';
import { join } from 'node:path';
import {
  Authenticator,
  ClientSecretHasher,
  CommandService,
  LoginThrottle,
  PasswordHasher,
  PersonalDataCipher,
  SealedSnapshotFile,
  SigningKeyRing,
  TokenService,
  bootstrapPlatformAdmin,
  ensurePrivateDirectory,
  jsonLogger,
  startExpiryPurge,
  startWebhookDispatch,
  wakeWhenProjected,
  type Bus,
  type Logger,
} from '@arbor/application';
import {
  IDLE_CONNECTION_MS,
  internalCommandRouter,
  internalTokenCheck,
  listenFirst,
  writeProbeFailure,
  type BoundPort,
} from '@arbor/api';
import { KafkaEventPublisher, ensureTopic } from '@arbor/kafka';
import {
  PostgresPublisherCheckpoint,
  openPostgresEventStore,
  openPostgresSecretVault,
  openPostgresThrottleStore,
  openPostgresSignInAuditStore,
  openPostgresTokenStore,
  openPostgresWebhookDeliveryStore,
} from '@arbor/postgres';
import { openDistributedReadModels, openProjectionWatermark } from '@arbor/read-side';
import {
  WebhookHttpTransport,
  closeInOrder,
  requireInternalTokenOffLoopback,
  undoOnFailure,
  type OpenedSoFar,
  type DistributedSettings,
  type Running,
} from '@arbor/runtime';
import { randomUUID } from 'node:crypto';

/** A started command service: where it listens, and how to stop it. */
export interface RunningCommandService extends Running {
  /** `http://127.0.0.1:<port>` (the port actually bound, also when COMMAND_SERVICE_PORT was 0). */
  url: string;
  port: number;
}

/**
 * The command service of the distributed profile: decides and appends commands sent by gateways, and
 * relays committed events from the log to Kafka. Any number may run: their write transactions serialise
 * on a PostgreSQL advisory lock, and each catches its model up with the log inside that lock. Throws (after
 * closing the port) when it cannot start; close() stops listening, then the relay, the model and the engines.
 */
export async function startCommandService(
  settings: DistributedSettings,
  log: Logger = jsonLogger({ app: 'command-service' }, settings.logLevel),
): Promise<RunningCommandService> {
  requireInternalTokenOffLoopback(settings, 'command-service');
  // Bound before anything else: a port in use must fail the start before the bootstrap admin is created and
  // its generated password printed, or that password would be lost for good (listenFirst). Until the app is
  // served, /healthz answers 200 and everything else (readiness and commands) 503.
  const bound = await listenFirst(settings.commandServicePort, settings.commandServiceHost);
  try {
    return await undoOnFailure((opened) => startOnPort(bound, settings, log, opened));
  } catch (error) {
    await bound.close();
    throw error;
  }
}

async function startOnPort(
  bound: BoundPort,
  settings: DistributedSettings,
  log: Logger,
  /** Each thing opened adds its closing here at once (a start that fails later must not leave it open). */
  opened: OpenedSoFar,
): Promise<RunningCommandService> {
  // Longer than the gateways' idle timeout (IDLE_CONNECTION_MS): they close idle connections first.
  bound.server.keepAliveTimeout = IDLE_CONNECTION_MS * 2;
  bound.server.headersTimeout = IDLE_CONNECTION_MS * 2 + 1000;
  const connection = { schema: settings.schema };
  const store = opened.add(await openPostgresEventStore(settings.databaseUrl, connection));
  const vault = opened.add(await openPostgresSecretVault(settings.databaseUrl, connection));
  const checkpoint = opened.add(await PostgresPublisherCheckpoint.open(settings.databaseUrl, connection));
  // Kafka being down must not stop commands: the relay retries in the background, and the log keeps
  // every event until it is delivered.
  const topicCreation = new AbortController();
  const topicEnsured = ensureTopic(settings.kafkaBrokers, settings.topic, 6, {
    logger: log,
    signal: topicCreation.signal,
  }).then(
    () => undefined,
    (e: unknown) => {
      if (!topicCreation.signal.aborted) log.warn('could not create the topic yet', { error: String(e) });
    },
  );
  // Its admin client stays connected until the topic has leaders (up to 30 s): a failed start or a close stops it
  // and waits for it to let go, which the signal makes prompt even while Kafka is unreachable.
  const stopEnsuringTopic = () => {
    topicCreation.abort();
    return topicEnsured;
  };
  opened.onUndo(stopEnsuringTopic);
  const publisher = new KafkaEventPublisher({
    brokers: settings.kafkaBrokers,
    store,
    checkpoint,
    topic: settings.topic,
    source: settings.issuer,
    logger: log,
  });
  opened.onUndo(() => publisher.stop());
  await publisher.start();
  // Commands only wake the relay and the webhook dispatcher: what reaches Kafka and receivers is always read back
  // from the committed log.
  let wakeWebhooks = (_events: Parameters<Bus['publish']>[0]) => undefined as void;
  const bus: Bus = {
    publish: (events) => {
      wakeWebhooks(events);
      return publisher.publish(events);
    },
    subscribe: () => () => undefined,
    close: async () => undefined,
  };

  const dataDir = settings.dataDir;
  ensurePrivateDirectory(dataDir);
  // Callers are authenticated here again, from their own access tokens: the gateways' signing keys (the
  // same IAM_DATA_DIR/keys), the token store's revocations and the read models' subjects.
  // The gateways' login-throttle counters: a wrong current password of a password change counts here as a
  // failed login does there.
  const [readModels, tokenStore, throttleStore, signInAuditStore, webhookDeliveries] = await opened.all([
    // PostgreSQL's, or MongoDB's with READ_MODELS_URL (libs/read-side): read only here.
    openDistributedReadModels(settings),
    openPostgresTokenStore(settings.databaseUrl, connection),
    openPostgresThrottleStore(settings.databaseUrl, connection),
    openPostgresSignInAuditStore(settings.databaseUrl, connection),
    openPostgresWebhookDeliveryStore(settings.databaseUrl, connection),
  ]);
  // When the projector has applied a commit (PostgreSQL NOTIFY, or MongoDB's checkpoint read while a wait lasts):
  // what the dispatcher waits for. Its own connections (two at most on PostgreSQL: one listens).
  const watermark = opened.add(openProjectionWatermark(settings, readModels));
  const keys = opened.add(SigningKeyRing.loadOrCreate(dataDir));
  const tokens = new TokenService(keys, { issuer: settings.issuer });
  const authenticator = new Authenticator(tokens, readModels, tokenStore, settings.audience);
  const hasher = opened.add(new PasswordHasher({ costLog2: settings.passwordCostLog2 }));
  const commands = new CommandService({
    store,
    bus,
    vault,
    cipher: new PersonalDataCipher(vault),
    hasher,
    secrets: new ClientSecretHasher(vault),
    throttle: new LoginThrottle(throttleStore, vault),
    log,
    // A cache of the model in this process's data directory: the next start folds only the events after it.
    snapshots: new SealedSnapshotFile(join(dataDir, 'command-model.snapshot'), vault),
  });
  await commands.start();
  opened.add(commands); // its last snapshot, once started
  await bootstrapPlatformAdmin(
    commands,
    { email: settings.bootstrapAdminEmail, password: settings.bootstrapAdminPassword },
    log,
  );
  // This process owns the distributed profile's housekeeping: expired refresh tokens, revocations of expired
  // access tokens and expired idempotency records are dropped at start and hourly, as the embedded process
  // does (any number of command services may; the deletes are idempotent).
  const purge = startExpiryPurge({
    tokenStore,
    eventStore: store,
    log,
    auditRetentionDays: settings.auditRetentionDays,
    signInAudit: signInAuditStore,
    // Each drop is recorded first, as the system (RequestMetadataDropped): the chain verifier accepts only those.
    recordDrop: async (before, orgId) => {
      await commands.execute({ type: 'RecordRequestMetadataDrop', before, orgId }, { principal: 'system' });
    },
  });
  opened.onUndo(() => purge.stop());

  // Webhooks (contract section 10): every command service runs a dispatcher; the lease in the delivery store lets
  // one of them deliver at a time (another takes over within the lease's 30 s if it stops). It delivers no event the
  // projector has not yet brought into the read models (a subscription's change may be among them): a commit wakes
  // it once the projector has applied it (below), and a round that finds them behind looks again 100 ms later
  // (then less often while they do not move).
  const webhookTransport = new WebhookHttpTransport({ allowPrivateTargets: settings.webhooksAllowPrivateTargets });
  opened.add(webhookTransport);
  const webhooks = startWebhookDispatch({
    store,
    projectedPosition: () => readModels.checkpoint(),
    subscriptions: readModels.webhooks,
    secrets: vault,
    deliveries: webhookDeliveries,
    transport: webhookTransport,
    commands,
    log,
    owner: `command-service-${randomUUID()}`,
    options: settings.webhookDispatch,
  });
  opened.onUndo(() => webhooks.stop());
  // A commit wakes the dispatcher once the projector has applied it (it delivers nothing the read models do not
  // hold yet).
  const wakeWhenApplied = wakeWhenProjected(
    (position, timeoutMs) => watermark.waitFor(position, timeoutMs),
    () => webhooks.wake(),
  );
  wakeWebhooks = (events) => {
    const last = events.at(-1)?.position;
    if (last !== undefined) wakeWhenApplied(last);
  };

  const app = express();
  app.disable('x-powered-by');
  // No ETag on command outcomes: nobody revalidates them, and express would hash every body (SHA-1) to make one.
  app.set('etag', false);
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  const internalTokenMatches = internalTokenCheck(settings.internalToken);
  app.get('/readyz', async (req, res) => {
    // A gateway asks with its IAM_INTERNAL_TOKEN: a wrong one is said here (401), so that its readiness names the
    // mismatch instead of every write failing as if this service were away. Others may ask without one.
    const presented = req.headers['x-arbor-internal-token'];
    if (presented !== undefined && !internalTokenMatches(presented))
      return void res
        .status(401)
        .json({ status: 'not ready', error: 'IAM_INTERNAL_TOKEN differs from this service’s' });
    try {
      const head = await store.headPosition();
      // The log must take a write, not only answer reads: a full disk fails every write while reads work.
      const eventStore = await store.probeWrite().then(() => 'ok', writeProbeFailure);
      // Kafka unreachable stops no command (the relay retries; the log keeps every event): only subscribers and the
      // projector's wake-ups wait (it polls the log meanwhile). So the bus is reported, `degraded` while the last
      // publish failed (its error is in this service's log), and does not make the service unready: a broker outage
      // must not take every command service, and the gateways asking them, out of a load balancer's rotation.
      const bus = publisher.health === 'ok' ? 'ok' : 'degraded';
      const checks = { eventStore, bus };
      const ready = eventStore === 'ok';
      // What callers' tokens must carry to verify here (all public: the discovery document and the JWKS say as
      // much), so that a gateway configured otherwise says so in its readiness instead of every write being a 401.
      keys.reloadIfChanged();
      const verifies = { issuer: settings.issuer, audience: settings.audience, kids: keys.all().map((k) => k.kid) };
      res.status(ready ? 200 : 503).json({
        status: ready ? 'ready' : 'not ready',
        checks,
        head,
        published: publisher.position,
        relay: publisher.role,
        verifies,
      });
    } catch (e) {
      res.status(503).json({ status: 'not ready', error: String((e as { code?: string }).code ?? e) });
    }
  });
  app.use(
    internalCommandRouter(commands, {
      token: settings.internalToken,
      log,
      authenticate: (authorization) => authenticator.authenticate(authorization),
    }),
  );
  bound.serve(app);
  log.info('command service listening', { port: bound.port, schema: settings.schema, topic: settings.topic });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${bound.port}`,
    port: bound.port,
    close: () =>
      (closing ??= closeInOrder(
        () => purge.stop(),
        stopEnsuringTopic,
        () => bound.close(),
        () => webhooks.stop(),
        () => webhookTransport.close(),
        () => publisher.stop(),
        () => commands.close(),
        () => hasher.close(),
        () =>
          Promise.allSettled([
            store.close(),
            vault.close(),
            checkpoint.close(),
            watermark.close(),
            readModels.close(),
            tokenStore.close(),
            throttleStore.close(),
            signInAuditStore.close(),
            webhookDeliveries.close(),
            keys.close(),
          ]),
      )),
  };
}
