import type { AddressInfo } from 'node:net';
import {
  PasswordHasher,
  ProjectionReadiness,
  SigningKeyRing,
  startKeyRotation,
  startChainCheckpoints,
  TokenAudiences,
  ensurePrivateDirectory,
  jsonLogger,
  type Logger,
} from '@arbor/application';
import {
  HttpCommandPort,
  createPublicServer,
  createApiApp,
  createApiContext,
  discoveryUrl,
  writeProbeFailure,
} from '@arbor/api';
import {
  openPostgresEventStore,
  openPostgresSecretVault,
  openPostgresThrottleStore,
  openPostgresSignInAuditStore,
  openPostgresTokenStore,
  openPostgresWebhookDeliveryStore,
} from '@arbor/postgres';
import { openDistributedReadModels, openProjectionWatermark } from '@arbor/read-side';
import {
  closeInOrder,
  requireInternalTokenOffLoopback,
  undoOnFailure,
  type DistributedSettings,
  type OpenedSoFar,
  type Running,
} from '@arbor/runtime';

/** A started gateway: where it listens, and how to stop it. */
export interface RunningGateway extends Running {
  /** `http://127.0.0.1:<port>` (the port actually bound, also when PORT was 0). */
  url: string;
  port: number;
}

/**
 * The gateway of the distributed profile: serves /api/v1 (contract sections 1-8) from the read models
 * (PostgreSQL's, or MongoDB's with READ_MODELS_URL), sends commands to a command service, and answers a write
 * only once the projector has brought the read models up to that write's log position (read-your-writes: via
 * LISTEN/NOTIFY on the checkpoint on PostgreSQL, by polling the checkpoint while a write waits on MongoDB).
 * Stateless apart from the signing keys, which it loads from IAM_DATA_DIR (shared by the gateways of one
 * machine; gateways on several machines need the same key files). Throws (after closing what it opened)
 * when it cannot start; close() stops listening, drops open connections, then closes the engines.
 */
export async function startGateway(
  settings: DistributedSettings,
  log: Logger = jsonLogger({ app: 'gateway' }, settings.logLevel),
): Promise<RunningGateway> {
  requireInternalTokenOffLoopback(settings, 'gateway');
  return undoOnFailure((opened) => startOpening(settings, log, opened));
}

async function startOpening(
  settings: DistributedSettings,
  log: Logger,
  /** Each thing opened adds its closing here at once (a start that fails later must not leave it open). */
  opened: OpenedSoFar,
): Promise<RunningGateway> {
  const issuer = settings.issuer;
  const connection = { schema: settings.schema };
  const [eventStore, readModels, vault, tokenStore, throttleStore, signInAuditStore, webhookDeliveries] =
    await opened.all([
      openPostgresEventStore(settings.databaseUrl, connection),
      // PostgreSQL's, or MongoDB's with READ_MODELS_URL (libs/read-side).
      openDistributedReadModels(settings),
      openPostgresSecretVault(settings.databaseUrl, connection),
      openPostgresTokenStore(settings.databaseUrl, connection),
      // Login-throttle counters: every gateway of the deployment counts in the same table.
      openPostgresThrottleStore(settings.databaseUrl, connection),
      openPostgresSignInAuditStore(settings.databaseUrl, connection),
      // The webhook delivery log, for its owners' reads (the command services' dispatcher writes it).
      openPostgresWebhookDeliveryStore(settings.databaseUrl, { ...connection, poolSize: 2 }),
    ]);
  const watermark = opened.add(openProjectionWatermark(settings, readModels));
  const closeEngines = () =>
    Promise.allSettled([
      watermark.close(),
      hasher.close(),
      eventStore.close(),
      readModels.close(),
      vault.close(),
      tokenStore.close(),
      throttleStore.close(),
      signInAuditStore.close(),
      webhookDeliveries.close(),
      keys.close(),
    ]);
  const dataDir = settings.dataDir;
  ensurePrivateDirectory(dataDir);
  const keys = opened.add(SigningKeyRing.loadOrCreate(dataDir));
  const rotation = startKeyRotation(keys, { rotationDays: settings.signingKeyRotationDays ?? 90, log });
  opened.onUndo(() => rotation.stop());
  const checkpointSeconds = settings.logCheckpointSeconds ?? 300;
  const checkpoints =
    checkpointSeconds > 0
      ? startChainCheckpoints({ store: eventStore, keys, issuer, log, everyMs: checkpointSeconds * 1000 })
      : undefined;
  opened.onUndo(() => checkpoints?.stop());
  const hasher = opened.add(new PasswordHasher());
  const projectionReadiness = new ProjectionReadiness();
  const commands = new HttpCommandPort({ baseUrl: settings.commandServiceUrl, token: settings.internalToken });

  const ctx = createApiContext({
    commands,
    readModels,
    projection: watermark,
    eventStore,
    vault,
    tokenStore,
    throttleStore,
    keys,
    issuer,
    auditRetentionDays: settings.auditRetentionDays,
    signInAuditStore,
    // IAM_AUDIENCE (default `<issuer>/api/v1`) and IAM_RESOURCES, as in the embedded profile.
    audiences: new TokenAudiences(settings.audience, settings.resources),
    hasher,
    log,
    allowPrivateWebhookTargets: settings.webhooksAllowPrivateTargets,
    webhookDeliveries,
    readiness: async () => {
      const checks: Record<string, string> = {};
      const [head, writable, projected, commandService] = await Promise.allSettled([
        eventStore.headPosition(),
        // The log must take a write, not only answer reads: a full disk fails every write while reads work.
        eventStore.probeWrite(),
        readModels.checkpoint(),
        // Its readiness (the log takes writes, the bus publishes), asked with this gateway's internal token, so
        // that a token the command service refuses shows here instead of as 503s on every write.
        fetch(`${settings.commandServiceUrl}/readyz`, {
          signal: AbortSignal.timeout(2000),
          headers: settings.internalToken === undefined ? {} : { 'x-arbor-internal-token': settings.internalToken },
        }).then((res) => commandServiceCheck(res, { issuer, audience: settings.audience, kid: keys.current.kid })),
      ]);
      checks.eventStore =
        head.status === 'rejected'
          ? 'unreachable'
          : writable.status === 'rejected'
            ? writeProbeFailure(writable.reason)
            : 'ok';
      checks.readModels = projected.status === 'fulfilled' ? 'ok' : 'unreachable';
      checks.commandService =
        commandService.status === 'fulfilled' ? commandService.value.commandService : 'unreachable';
      // Reported, not required (see the command service's readiness): a broker outage costs latency, not the API.
      if (commandService.status === 'fulfilled' && commandService.value.bus !== undefined)
        checks.bus = commandService.value.bus;
      checks.projections =
        head.status === 'fulfilled' && projected.status === 'fulfilled'
          ? projectionReadiness.check(projected.value, head.value)
          : checks.readModels;
      return { ready: gatewayReady(checks), checks };
    },
  });
  const app = createApiApp(ctx, {
    validateResponses: settings.validateResponses,
    trustedProxies: settings.trustedProxies,
    corsOrigins: settings.corsOrigins,
  });
  const publicServer = createPublicServer(app);
  const server = publicServer.server.listen(settings.port, settings.host);
  opened.onUndo(() => publicServer.close(0));
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const port = (server.address() as AddressInfo).port;
  log.info('arbor listening', {
    port,
    issuer,
    discovery: discoveryUrl(issuer),
    profile: 'distributed',
    schema: settings.schema,
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      (closing ??= closeInOrder(() => {
        rotation.stop();
        checkpoints?.stop();
        // Answers what is in flight first (PublicServer.close), then closes the engines its requests use.
        return publicServer.close();
      }, closeEngines)),
  };
}

/**
 * Whether a gateway is ready, from its checks: every check `ok`, except two that say something of the services
 * behind it, shared by every gateway, while this one still serves reads, logins and tokens: `bus` (a broker outage
 * costs latency, not the API) and a command service `unreachable` or `not ready` (writes answer 503 with
 * Retry-After meanwhile; taking every gateway out of a load balancer at once would cut the reads too). A command
 * service that refuses this gateway's IAM_INTERNAL_TOKEN is this gateway's misconfiguration: not ready.
 */
export function gatewayReady(checks: Record<string, string>): boolean {
  return Object.entries(checks).every(
    ([name, c]) =>
      c === 'ok' || name === 'bus' || (name === 'commandService' && (c === 'unreachable' || c === 'not ready')),
  );
}

/**
 * The command service's `/readyz` answer as the gateway's checks, in fixed words (this readiness is public: no
 * error text of the services behind it): `commandService` is `ok`, `not ready` (its log says why), `refuses
 * IAM_INTERNAL_TOKEN` (401: the two were given different tokens), or, when it verifies tokens of another issuer or
 * audience, or lacks the key this gateway signs with (keys are files in each data directory), a sentence naming
 * the setting to share: every write through this gateway would be a 401 otherwise. `bus` is `ok` or `degraded`.
 * `mine`: this gateway's issuer, audience, and the kid of the key it signs with now.
 */
export async function commandServiceCheck(
  res: Response,
  mine: { issuer: string; audience: string; kid: string },
): Promise<{ commandService: string; bus?: string }> {
  if (res.status === 401)
    return { commandService: 'refuses IAM_INTERNAL_TOKEN (the gateway and the command service must share it)' };
  const body = (await res.json().catch(() => ({}))) as {
    checks?: Record<string, string>;
    verifies?: { issuer?: unknown; audience?: unknown; kids?: unknown };
  };
  const bus = body.checks?.bus === undefined ? undefined : body.checks.bus === 'ok' ? 'ok' : 'degraded';
  const withBus = (commandService: string) => ({ commandService, ...(bus === undefined ? {} : { bus }) });
  const verifies = body.verifies;
  if (verifies !== undefined && (verifies.issuer !== mine.issuer || verifies.audience !== mine.audience))
    return withBus(
      'verifies another issuer or audience (IAM_ISSUER and IAM_AUDIENCE must be the same on gateways and command services)',
    );
  if (verifies !== undefined && Array.isArray(verifies.kids) && !verifies.kids.includes(mine.kid))
    return withBus(
      'lacks the key this gateway signs with (gateways and command services must share the keys directory, see the README)',
    );
  return withBus(res.ok ? 'ok' : 'not ready');
}
