import { join } from 'node:path';
import {
  CheckpointWatermark,
  PasswordHasher,
  SigningKeyRing,
  TokenAudiences,
  defaultAudience,
  type EventStore,
  type Logger,
  type StoredResponse,
} from '@arbor/application';
import {
  HttpCommandPort,
  createPublicServer,
  type PublicServer,
  createApiApp,
  createApiContext,
  internalCall,
  type InternalAnswer,
  type InternalTarget,
  type Readiness,
} from '@arbor/api';
import {
  openSqliteEventStoreReadOnly,
  openSqliteReadModelsReadOnly,
  openSqliteSecretVault,
  openSqliteSignInAuditStore,
  openSqliteThrottleStore,
  openSqliteTokenStore,
  openSqliteWebhookDeliveryStore,
} from '@arbor/sqlite';
import { closeInOrder } from '@arbor/runtime';
import type { StandaloneConfig } from './standalone-config';

/**
 * How long a read of the event log waits for the writer to announce that what it read is durable (one fdatasync,
 * about a millisecond, normally) before it fails with IAM_ERR_UNAVAILABLE (503): the writer's disk has stopped.
 */
const DURABLE_WAIT_MS = 5_000;

/** How an HTTP worker reaches its writer: the writer's internal command API on a Unix socket, and its token. */
export interface WriterLink {
  /** The Unix domain socket the writer's internal API listens on (worker-pool.ts). */
  socketPath: string;
  /** Sent as `x-arbor-internal-token` on every command (random per writer start). */
  internalToken: string;
}

/** A composed HTTP worker, before and after it listens. */
export interface EmbeddedWorker {
  /** Tells of a read-model checkpoint the writer committed (its message to the workers). */
  observeCheckpoint(position: number): void;
  /** Tells of the position up to which the writer's commits are on stable storage (its message to the workers). */
  observeDurable(position: number): void;
  /**
   * Starts accepting connections on the shared port (the cluster primary holds the socket); `durable` and
   * `checkpoint`: the writer's durable position and read-model checkpoint when it sent the word (later ones come
   * with observeDurable and observeCheckpoint).
   */
  listen(port: number, host: string | undefined, durable: number, checkpoint: number): Promise<void>;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), then closes the files. */
  close(graceMs?: number): Promise<void>;
}

/**
 * One HTTP worker of the embedded profile with IAM_WORKERS above 1: the gateway of the distributed profile over the
 * embedded files. Queries read the read models through a read-only SQLite connection (WAL: the writer's commits
 * are visible to the next read, never half); commands go to the writer over its internal API
 * (internalCommandRouter, which authenticates the caller's token again and authorizes the command against the
 * command model); a write is answered once this worker has heard that the read models hold it (read-your-writes,
 * CheckpointWatermark fed by the writer's messages). The token store, login-throttle counters, sign-in audit,
 * vault and idempotency records are the same SQLite files as the writer's: SQLite's locks serialise the few writes
 * a worker makes there. The signing keys are the data directory's; the writer rotates them and SigningKeyRing
 * reloads them when the key directory changes.
 */
export async function startEmbeddedWorker(
  config: StandaloneConfig,
  link: WriterLink,
  log: Logger,
  /** Asks the writer's projector to catch up (a message to the writer); called while a request waits for it. */
  askCatchUp: () => void = () => undefined,
): Promise<EmbeddedWorker> {
  const dir = config.dataDir;
  const readModels = openSqliteReadModelsReadOnly(join(dir, 'read-models.sqlite'), {
    subtreeCacheEntries: config.subtreeCacheEntries,
  });
  // Read-only: the writer appends, and completes idempotency records on a worker's behalf (writerEventStore); a
  // worker writing events.sqlite itself would wait on the writer's lock in SQLite's busy handler, on its event loop.
  // What the writer has made durable (its fdatasyncs, announced): a read of the log returns only events up to there,
  // as the writer's own reads do, so no event a client is shown here can be lost by a power failure. A
  // CheckpointWatermark for its waiters and timeout; nothing to poll (the writer's word is the only source), so its
  // poll only repeats what was heard, and not at the start of a wait.
  const durability: CheckpointWatermark = new CheckpointWatermark({
    readCheckpoint: async () => durability.observed,
    pollIntervalMs: 1000,
    pollAtOnce: false,
    subject: 'event log’s durable position',
  });
  const store = writerEventStore(
    openSqliteEventStoreReadOnly(join(dir, 'events.sqlite'), {
      awaitDurable: (position) => durability.waitFor(position, DURABLE_WAIT_MS),
    }),
    link,
  );
  const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
  const tokenStore = openSqliteTokenStore(join(dir, 'tokens.sqlite'));
  const throttleStore = openSqliteThrottleStore(join(dir, 'throttle.sqlite'));
  // The writer's WalCheckpointer checkpoints this file (start-standalone.ts): no checkpoint inside a worker's commit.
  const signInAuditStore = openSqliteSignInAuditStore(join(dir, 'sign-ins.sqlite'), { backgroundCheckpoints: true });
  const webhookDeliveries = openSqliteWebhookDeliveryStore(join(dir, 'webhooks.sqlite'));
  // The writer rotates the keys; the ring reads its directory again whenever it changed (SigningKeyRing.reloadIfChanged),
  // so a new key signs here when its time comes and a revoked one (`arbor keys revoke`) stops verifying here too.
  const keys = SigningKeyRing.loadOrCreate(dir);
  const watermark = new CheckpointWatermark({
    readCheckpoint: () => readModels.checkpoint(),
    pollIntervalMs: 50,
    onBehind: askCatchUp,
  });
  await watermark.refresh();
  const hasher = new PasswordHasher({ costLog2: config.passwordCostLog2 });
  const ctx = createApiContext({
    commands: new HttpCommandPort(writerTarget(link)),
    readModels,
    // Answers claim the writer's last announced checkpoint as their position (ProjectionWatermark.atLeast): it
    // trails the read models by what this worker has not heard yet, and saves a query per access decision.
    projection: {
      waitFor: (position, timeoutMs) => watermark.waitFor(position, timeoutMs),
      get atLeast() {
        return watermark.observed >= 0 ? watermark.observed : undefined;
      },
    },
    vault,
    tokenStore,
    throttleStore,
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
    // The writer's readiness (the log takes a write, the projector keeps up), asked over its internal API.
    readiness: () => writerReadiness(link),
  });
  const app = createApiApp(ctx, {
    validateResponses: config.validateResponses,
    benchRoutes: config.benchRoutes ?? false,
    trustedProxies: config.trustedProxies,
    corsOrigins: config.corsOrigins,
  });
  let server: PublicServer | undefined;
  const closeFiles = () =>
    Promise.allSettled([
      store.close(),
      readModels.close(),
      vault.close(),
      tokenStore.close(),
      throttleStore.close(),
      signInAuditStore.close(),
      webhookDeliveries.close(),
      keys.close(),
    ]);
  return {
    observeCheckpoint: (position) => watermark.observe(position),
    observeDurable: (position) => durability.observe(position),
    listen: (port, host, durable, checkpoint) =>
      new Promise<void>((resolve, reject) => {
        durability.observe(durable);
        // Not below a later word already heard (the writer's read models only move forward while it runs).
        if (checkpoint > watermark.observed) watermark.observe(checkpoint);
        server = createPublicServer(app);
        if (host === undefined) server.server.listen(port);
        else server.server.listen(port, host);
        server.server.once('listening', resolve).once('error', reject);
      }),
    close: (graceMs = 10_000) =>
      closeInOrder(
        // Stops listening before it returns (worker-main.ts relies on it), then answers what is in flight.
        () => (server?.server.listening ? server.close(graceMs) : undefined),
        () => {
          watermark.close();
          durability.close();
        },
        () => hasher.close(),
        closeFiles,
      ),
  };
}

/** The writer's internal API, on its Unix socket (the URL's host is never resolved). */
const writerTarget = (link: WriterLink): InternalTarget & { baseUrl: string } => ({
  baseUrl: 'http://writer.invalid',
  socketPath: link.socketPath,
  token: link.internalToken,
});

/** `GET /internal/v1/readiness` on the writer's socket; unreachable means not ready. */
async function writerReadiness(link: WriterLink): Promise<Readiness> {
  const notReady = (why: string): Readiness => ({ ready: false, checks: { writer: why } });
  let answer: InternalAnswer;
  try {
    answer = await internalCall(writerTarget(link), { method: 'GET', path: '/internal/v1/readiness', timeoutMs: 2000 });
  } catch {
    return notReady('unreachable');
  }
  try {
    return JSON.parse(answer.text) as Readiness;
  } catch {
    return notReady('unreadable');
  }
}

/**
 * The event log as a worker uses it: reads through its read-only connection, `completeIdempotency` (the one write a
 * gateway makes there, write-flow.ts) sent to the writer's internal API. Rejects when the writer does not take it;
 * the record then stays provisional, which a replay handles (it rebuilds the response from the log).
 */
function writerEventStore<S extends Pick<EventStore, 'completeIdempotency'>>(store: S, link: WriterLink): S {
  const complete = async (scope: string, key: string, response: StoredResponse): Promise<void> => {
    const body = JSON.stringify({ scope, key, response });
    const answer = await internalCall(writerTarget(link), {
      method: 'POST',
      path: '/internal/v1/idempotency',
      body,
      timeoutMs: 15_000,
    });
    if (answer.status !== 204) throw new Error(`the writer answered ${answer.status}`);
  };
  // Every other member is the store's own, `this` included (a Proxy: the store's fields stay where they are).
  return new Proxy(store, {
    get: (target, property, receiver) =>
      property === 'completeIdempotency' ? complete : Reflect.get(target, property, receiver),
  });
}
