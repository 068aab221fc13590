import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '@arbor/application';
import { startStandalone, type RunningStandalone } from '../start-standalone';
import { isDistributedRun, startDistributedStack, type DistributedStack } from './distributed-stack';

export const ADMIN_EMAIL = 'admin@example.test';
export const ADMIN_PASSWORD = 'correct horse battery staple';
/** Arbor's own audience under the test issuer (the IAM_AUDIENCE default: `<issuer>/api/v1`). */
export const ARBOR_AUDIENCE = 'http://arbor.test/api/v1';
/** Another resource server the test deployment knows (IAM_RESOURCES), for RFC 8707 `resource` requests. */
export const OTHER_RESOURCE = 'https://orders.example.test';

export interface TestApp {
  url: string;
  dataDir: string;
  profile: 'embedded' | 'distributed';
  /** The embedded app, or the distributed stack's processes (ARBOR_TEST_PROFILE=distributed). */
  running: RunningStandalone | DistributedStack;
  rebuildReadModels(): Promise<void>;
  adminToken: string;
  /** JSON request helper: returns status, headers and parsed body (JSON or text). */
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is, no JSON encoding. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Bearer token; defaults to the admin's; null sends none. */
  token?: string | null;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * Starts Arbor over a fresh (or given) data directory, with a cheap password hash cost and response
 * validation on, and logs the platform admin in. `trustedProxies` (IAM_TRUSTED_PROXIES): e.g. `['loopback']`
 * lets a test play several sources with X-Forwarded-For; `corsOrigins` (IAM_CORS_ORIGINS): the browser
 * origins the API allows; `logCheckpointSeconds` (IAM_LOG_CHECKPOINT_SECONDS): how often the server signs a
 * checkpoint of the event log. Embedded: the standalone app in this process. With
 * ARBOR_TEST_PROFILE=distributed (set by the `distributed` Jest project): gateway, command service and
 * projector as separate processes over PostgreSQL and Kafka. With ARBOR_TEST_WORKERS=N (the `embedded-workers` Jest
 * project): the embedded app with N HTTP worker processes, this process their writer. The same tests run against all.
 */
export async function startTestApp(
  options: {
    dataDir?: string;
    trustedProxies?: string[];
    corsOrigins?: string[];
    logCheckpointSeconds?: number;
    /** IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true: webhook targets on loopback and private addresses are allowed. */
    allowPrivateWebhookTargets?: boolean;
    /** IAM_WEBHOOK_RETRY_BASE_MS, IAM_WEBHOOK_MAX_FAILURES, IAM_WEBHOOK_TIMEOUT_MS (defaults where absent). */
    webhookDispatch?: { retryBaseMs?: number; maxFailures?: number; timeoutMs?: number };
    /** IAM_WORKERS (embedded only): HTTP worker processes beside the writer; ARBOR_TEST_WORKERS when absent. */
    workers?: number;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'arbor-e2e-'));
  if (isDistributedRun()) {
    const env: Record<string, string> = options.trustedProxies
      ? { IAM_TRUSTED_PROXIES: options.trustedProxies.join(',') }
      : {};
    if (options.corsOrigins) env.IAM_CORS_ORIGINS = options.corsOrigins.join(',');
    if (options.logCheckpointSeconds !== undefined)
      env.IAM_LOG_CHECKPOINT_SECONDS = String(options.logCheckpointSeconds);
    if (options.allowPrivateWebhookTargets) env.IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS = 'true';
    const dispatch = options.webhookDispatch ?? {};
    if (dispatch.retryBaseMs !== undefined) env.IAM_WEBHOOK_RETRY_BASE_MS = String(dispatch.retryBaseMs);
    if (dispatch.maxFailures !== undefined) env.IAM_WEBHOOK_MAX_FAILURES = String(dispatch.maxFailures);
    if (dispatch.timeoutMs !== undefined) env.IAM_WEBHOOK_TIMEOUT_MS = String(dispatch.timeoutMs);
    const stack = await startDistributedStack({
      dataDir,
      adminEmail: ADMIN_EMAIL,
      adminPassword: ADMIN_PASSWORD,
      issuer: 'http://arbor.test',
      resources: [OTHER_RESOURCE],
      env,
    });
    return connectToStack(stack, dataDir);
  }
  const running = await startStandalone(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      issuer: 'http://arbor.test',
      resources: [OTHER_RESOURCE],
      bootstrapAdminEmail: ADMIN_EMAIL,
      bootstrapAdminPassword: ADMIN_PASSWORD,
      passwordCostLog2: 10,
      logLevel: 'silent',
      validateResponses: true,
      trustedProxies: options.trustedProxies,
      corsOrigins: options.corsOrigins,
      logCheckpointSeconds: options.logCheckpointSeconds,
      webhooksAllowPrivateTargets: options.allowPrivateWebhookTargets,
      // The embedded-workers Jest project (tests/workers/profile.setup.js): HTTP workers beside the writer.
      workers: options.workers ?? (process.env.ARBOR_TEST_WORKERS ? Number(process.env.ARBOR_TEST_WORKERS) : undefined),
      webhookDispatch: {
        retryBaseMs: options.webhookDispatch?.retryBaseMs ?? 5_000,
        maxFailures: options.webhookDispatch?.maxFailures ?? 20,
        timeoutMs: options.webhookDispatch?.timeoutMs ?? 10_000,
      },
    },
    jsonLogger({}, 'silent'),
  );
  const call = makeCaller(running.url, () => app.adminToken, running.workers !== undefined);
  const app: TestApp = {
    url: running.url,
    dataDir,
    profile: 'embedded',
    running,
    // With workers, a worker's claimed decision position may exceed its read models until it hears the reset
    // (ProjectionWatermark.atLeast): callers ask nothing while a rebuild runs.
    rebuildReadModels: () => running.projector.rebuild(),
    adminToken: '',
    call,
    close: () => running.close(),
  };
  app.adminToken = await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD);
  return app;
}

export async function passwordToken(app: Pick<TestApp, 'call'>, username: string, password: string): Promise<string> {
  const res = await app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'password', username, password },
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return res.body.access_token;
}

/**
 * `spread`: every request on a connection of its own (`connection: close`). With HTTP workers, cluster hands each new
 * connection to the next worker, so consecutive calls land on different processes; with fetch's keep-alive pool,
 * a test's sequential calls would all reuse one connection, i.e. one worker, and nothing across processes would
 * be tested (read-your-writes, caches, counters).
 */
function makeCaller(baseUrl: string, defaultToken: () => string, spread = false) {
  return async (method: string, path: string, options: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = spread
      ? { connection: 'close', ...options.headers }
      : { ...options.headers };
    const token = options.token === undefined ? defaultToken() : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

/** Creates an organization and returns it, failing the test on anything but 201. */
export async function createOrg(
  app: TestApp,
  name: string,
  parentId: string | null = null,
  extra: Record<string, unknown> = {},
): Promise<any> {
  const res = await app.call('POST', '/api/v1/orgs', { body: { name, parentId, ...extra } });
  if (res.status !== 201) throw new Error(`create ${name} failed: ${res.status} ${res.text}`);
  return res.body;
}

/** A TestApp over an already started distributed stack, logged in as the platform admin. */
/**
 * A distributed stack (startDistributedStack) over a fresh data directory named from `prefix`, its platform admin
 * logged in: how the tests/distributed suites begin. `options` adds to the stack's (a proxied `databaseUrl`, `env`).
 */
export async function startStackTestApp(
  prefix: string,
  options: { databaseUrl?: string; env?: Record<string, string> } = {},
): Promise<{ app: TestApp; stack: DistributedStack; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const stack = await startDistributedStack({
    dataDir,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    issuer: 'http://arbor.test',
    ...options,
  });
  return { app: await connectToStack(stack, dataDir), stack, dataDir };
}

export async function connectToStack(stack: DistributedStack, dataDir: string): Promise<TestApp> {
  const app: TestApp = {
    url: stack.url,
    dataDir,
    profile: 'distributed',
    running: stack,
    rebuildReadModels: () => stack.rebuildReadModels(),
    adminToken: '',
    call: makeCaller(stack.url, () => app.adminToken),
    close: () => stack.close(),
  };
  app.adminToken = await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD);
  return app;
}
