import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createOrg,
  type TestApp,
  startStackTestApp,
} from '../../apps/standalone/src/test-support/test-app';
import { newId } from '@arbor/domain';
import { newLoggedInUser } from '../../apps/standalone/src/test-support/access-fixtures';

/*
 * The command service's internal API (issue 10, item 6): it trusts no gateway about who asks. It verifies
 * the caller's own access token and authorizes the command against its model; off loopback it refuses to
 * run without IAM_INTERNAL_TOKEN, which it compares in constant time.
 */
const ROOT = resolve(__dirname, '../..');
let stack: DistributedStack;
let app: TestApp;

beforeAll(async () => {
  ({ app, stack } = await startStackTestApp('arbor-internal-'));
});
afterAll(() => stack?.close());

const send = async (body: unknown, headers: Record<string, string> = {}, base = stack.env.COMMAND_SERVICE_URL) => {
  const res = await fetch(`${base}/internal/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/**
 * Resolves with the exit code and stderr of a process expected to stop by itself; one still running after
 * `withinMs` is killed (and reports a null code), so a test never leaves a server behind.
 */
const exitOf = (child: ChildProcess, withinMs = 15_000) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
    child.stderr?.on('data', (d) => (stderr += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });

describe('the internal command API authorizes what it executes', () => {
  it("runs a command for a caller's valid token, and refuses what that caller may not do", async () => {
    const root = await createOrg(app, 'Internal root');
    const member = await newLoggedInUser(app, root.id, ['member'], 'internal-member');
    const deleteRoot = { type: 'DeleteOrg', orgId: root.id, recursive: true };
    const refused = await send({ command: deleteRoot, accessToken: member.token });
    expect(refused).toMatchObject({ status: 422, body: { code: 'IAM_ERR_FORBIDDEN' } });
    const child = { type: 'CreateOrg', orgId: newId('org'), name: 'made inside', parentId: root.id };
    expect((await send({ command: child, accessToken: member.token })).body).toMatchObject({
      code: 'IAM_ERR_FORBIDDEN',
    });
    expect((await app.call('GET', `/api/v1/orgs/${root.id}`)).status).toBe(200);
    const applied = await send({ command: child, accessToken: app.adminToken });
    expect(applied).toMatchObject({ status: 200, body: { kind: 'applied' } });
  });

  it('writes no command its caller has stopped waiting for (timeoutMs, from the request’s arrival)', async () => {
    const command = { type: 'CreateOrg', orgId: newId('org'), name: 'Given up on', parentId: null };
    // A timeout shorter than the service's margin for the way back: already past when the command would be written.
    const late = await send({ command, accessToken: app.adminToken, timeoutMs: 1 });
    expect(late).toMatchObject({ status: 422, body: { code: 'IAM_ERR_UNAVAILABLE', retryAfterSeconds: 1 } });
    expect((await app.call('GET', `/api/v1/orgs/${command.orgId}`)).status).toBe(404);
    for (const timeoutMs of [0, -5, 1.5, 600_001, '15000'])
      expect((await send({ command, accessToken: app.adminToken, timeoutMs })).status).toBe(422);
    expect(await send({ command, accessToken: app.adminToken, timeoutMs: 15_000 })).toMatchObject({
      status: 200,
      body: { kind: 'applied' },
    });
  });

  it('believes no actor or principal it is told, only a verified token', async () => {
    const root = await createOrg(app, 'Forged root');
    const command = { type: 'DeleteOrg', orgId: root.id, recursive: true };
    // Today's gateways send a token; what older ones sent (an actor) or a made-up principal counts for nothing.
    const forged = [
      { command, context: { actor: { type: 'user', id: 'usr_anyone' } } },
      { command, principal: { type: 'user', id: 'usr_admin', platformAdmin: true, scopes: ['orgs:delete'] } },
    ];
    for (const body of forged) expect((await send(body)).body).toMatchObject({ code: 'IAM_ERR_VALIDATION' });
    for (const accessToken of ['not-a-token', `${app.adminToken.slice(0, -4)}AAAA`])
      expect((await send({ command, accessToken })).body).toMatchObject({ code: 'IAM_ERR_UNAUTHENTICATED' });
    expect(
      (
        await send({
          command: {
            type: 'BootstrapPlatformAdmin',
            userId: newId('usr'),
            email: 'x@example.test',
            name: 'x',
            password: 'p'.repeat(12),
          },
          accessToken: app.adminToken,
        })
      ).body,
    ).toMatchObject({
      code: 'IAM_ERR_FORBIDDEN',
    });
    expect((await app.call('GET', `/api/v1/orgs/${root.id}`)).status).toBe(200);
  });

  it('takes no identifier or secret it is sent on trust: ids already used are a 409, weak secrets a 400, and nothing is overwritten', async () => {
    const treeA = await createOrg(app, 'Tree A of an admin');
    const treeC = await createOrg(app, 'Tree C, someone else');
    const eve = await newLoggedInUser(app, treeA.id, ['admin'], 'eve');
    const me = (await app.call('GET', '/api/v1/users/me')).body;
    // Eve names the platform admin's id for a "new" user with a password of her choosing.
    const takeover = {
      type: 'AddUserToOrg',
      orgId: treeA.id,
      roles: ['member'],
      newUser: { userId: me.id, email: 'eve-alias@example.test', name: 'x', password: 'eve-chose-this' },
    };
    expect((await send({ command: takeover, accessToken: eve.token })).body).toMatchObject({
      code: 'IAM_ERR_VERSION_CONFLICT',
    });
    const login = (password: string) =>
      app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        body: { grant_type: 'password', username: ADMIN_EMAIL, password },
      });
    expect((await login('eve-chose-this')).status).toBe(400);
    expect((await login(ADMIN_PASSWORD)).status).toBe(200);
    // An existing organization's id for a "new" one under Eve's tree: no stream is opened twice.
    const steal = { type: 'CreateOrg', orgId: treeC.id, parentId: treeA.id, name: 'stolen' };
    expect((await send({ command: steal, accessToken: eve.token })).body).toMatchObject({
      code: 'IAM_ERR_VERSION_CONFLICT',
    });
    expect((await app.call('GET', `/api/v1/orgs/${treeC.id}`, { token: eve.token })).status).toBe(404);
    // Client credentials: the command service mints the client_id itself, and refuses a guessable secret.
    const client = {
      type: 'IssueClientCredential',
      clientCredentialId: newId('cc'),
      orgId: treeA.id,
      name: 'c',
      scopes: ['orgs:read'],
      secret: 'weak',
    };
    expect((await send({ command: client, accessToken: eve.token })).body).toMatchObject({
      code: 'IAM_ERR_VALIDATION',
    });
    // The right shape with no variety (43 x 'A') is as guessable.
    expect((await send({ command: { ...client, secret: 'A'.repeat(43) }, accessToken: eve.token })).body).toMatchObject(
      { code: 'IAM_ERR_VALIDATION' },
    );
    expect((await app.call('GET', `/api/v1/oauth2/client-credentials?orgId=${treeA.id}`)).body.items).toEqual([]);
  });

  it('creates nothing under an id outside the grammar of its kind: no unremovable admin, no `me`, no other namespace', async () => {
    const treeA = await createOrg(app, 'Tree A of an id-minting admin');
    const eve = await newLoggedInUser(app, treeA.id, ['admin'], 'eve-ids');
    const email = () => `${newId('e')}@example.test`;
    const password = 'eve-chose-this-one';
    const otherClient = (
      await app.call('POST', '/api/v1/oauth2/client-credentials', {
        body: { name: 'other', orgId: treeA.id, scopes: ['orgs:read'] },
      })
    ).body;
    for (const userId of [
      'bad id/..',
      'me',
      otherClient.client_id,
      'arbor-first-party',
      'system:snapshot',
      newId('org'),
    ]) {
      const addAdmin = {
        type: 'AddUserToOrg',
        orgId: treeA.id,
        roles: ['admin'],
        newUser: { userId, email: email(), name: 'x', password },
      };
      const refused = await send({ command: addAdmin, accessToken: eve.token });
      expect(refused).toMatchObject({
        status: 422,
        body: { code: 'IAM_ERR_VALIDATION', errors: [{ path: '/newUser/userId' }] },
      });
      const login = await app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        body: { grant_type: 'password', username: addAdmin.newUser.email, password },
      });
      expect(login.status).toBe(400);
    }
    const org = { type: 'CreateOrg', orgId: 'org_atkdeep1800', parentId: treeA.id, name: 'deep' };
    expect((await send({ command: org, accessToken: eve.token })).body).toMatchObject({
      code: 'IAM_ERR_VALIDATION',
      errors: [{ path: '/orgId' }],
    });
    const secret = `${'ABCDEFGHIJKLMNOP'.repeat(3)}`;
    const client = {
      type: 'IssueClientCredential',
      clientCredentialId: 'cc bad/..',
      orgId: treeA.id,
      name: 'c',
      scopes: ['orgs:read'],
      secret,
    };
    expect((await send({ command: client, accessToken: eve.token })).body).toMatchObject({
      code: 'IAM_ERR_VALIDATION',
      errors: [{ path: '/clientCredentialId' }],
    });
    expect((await app.call('GET', `/api/v1/orgs/${treeA.id}/users?limit=200`)).body.items).toHaveLength(1);
    expect((await app.call('GET', `/api/v1/oauth2/client-credentials?orgId=${treeA.id}`)).body.items).toHaveLength(1);
  });

  it("applies the public API's JSON structure checks: nesting bounded, no repeated member names", async () => {
    const root = await createOrg(app, 'Structure root');
    let metadata: unknown = 'leaf';
    for (let i = 0; i < 1800; i++) metadata = { a: metadata };
    const deep = { type: 'CreateOrg', orgId: newId('org'), parentId: root.id, name: 'deep', metadata };
    expect(await send({ command: deep, accessToken: app.adminToken })).toMatchObject({
      status: 400,
      body: { code: 'IAM_ERR_VALIDATION' },
    });
    const orgId = newId('org');
    const repeated = `{"command": {"type": "CreateOrg", "orgId": "${orgId}", "parentId": "${root.id}", "name": "a", "name": "b"}, "accessToken": "${app.adminToken}"}`;
    const res = await fetch(`${stack.env.COMMAND_SERVICE_URL}/internal/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: repeated,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'IAM_ERR_VALIDATION',
      message: expect.stringContaining('/command/name'),
    });
    expect((await app.call('GET', `/api/v1/orgs/${orgId}`)).status).toBe(404);
    // What the public API admits still passes: metadata as deep as a request body may nest.
    let allowed: unknown = 'leaf';
    for (let i = 0; i < 30; i++) allowed = { a: allowed };
    const ok = await app.call('POST', '/api/v1/orgs', {
      body: { name: 'deep but allowed', parentId: root.id, metadata: allowed },
    });
    expect(ok.status).toBe(201);
  });

  it('with IAM_INTERNAL_TOKEN, answers 401 to any request without exactly that token', async () => {
    const port = await freePort();
    await stack.spawnExtra('commandService', {
      COMMAND_SERVICE_PORT: String(port),
      IAM_INTERNAL_TOKEN: 'a-long-shared-secret',
    });
    const base = `http://127.0.0.1:${port}`;
    const command = { type: 'CreateOrg', orgId: newId('org'), name: 'With token', parentId: null };
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-arbor-internal-token': 'wrong' },
      { 'x-arbor-internal-token': 'a-long-shared-secre' },
    ];
    for (const headers of attempts)
      expect((await send({ command, accessToken: app.adminToken }, headers, base)).status).toBe(401);
    expect(
      (await send({ command, accessToken: app.adminToken }, { 'x-arbor-internal-token': 'a-long-shared-secret' }, base))
        .status,
    ).toBe(200);
  });

  it('a gateway given another IAM_INTERNAL_TOKEN says so in its readiness, and answers writes 500, not 503', async () => {
    const [servicePort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    await stack.spawnExtra('commandService', {
      COMMAND_SERVICE_PORT: String(servicePort),
      IAM_INTERNAL_TOKEN: 'a-long-shared-secret',
    });
    const service = `http://127.0.0.1:${servicePort}`;
    // Anyone may ask the command service's readiness; a wrong token is told apart.
    expect((await fetch(`${service}/readyz`)).status).toBe(200);
    const wrong = { 'x-arbor-internal-token': 'another-long-secret' };
    expect((await fetch(`${service}/readyz`, { headers: wrong })).status).toBe(401);
    const gateway = spawn(process.execPath, [join(ROOT, 'apps/gateway/dist/main.js')], {
      cwd: ROOT,
      env: {
        ...stack.env,
        PORT: String(gatewayPort),
        COMMAND_SERVICE_URL: service,
        IAM_INTERNAL_TOKEN: 'another-long-secret',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    try {
      const base = `http://127.0.0.1:${gatewayPort}`;
      let readiness: { status: number; body: any } | undefined;
      for (let tries = 0; tries < 150 && readiness?.body?.checks?.commandService === undefined; tries++) {
        const res = await fetch(`${base}/readyz`).catch(() => undefined);
        readiness = res && { status: res.status, body: await res.json() };
        if (readiness?.body?.checks?.commandService === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      expect(readiness?.status).toBe(503);
      expect(readiness?.body.checks.commandService).toMatch(/refuses IAM_INTERNAL_TOKEN/);
      const write = await fetch(`${base}/api/v1/orgs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Mismatched tokens', parentId: null }),
      });
      expect(write.status).toBe(500);
    } finally {
      await exitOf(gateway, 0);
    }
  });

  it('a command service that cannot publish to Kafka says its bus is degraded, and stays ready: commands still run', async () => {
    const port = await freePort();
    const service = spawn(process.execPath, [join(ROOT, 'apps/command-service/dist/main.js')], {
      cwd: ROOT,
      env: { ...stack.env, COMMAND_SERVICE_PORT: String(port), KAFKA_BROKERS: '127.0.0.1:1' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      const readiness = async () => {
        const res = await fetch(`${base}/readyz`).catch(() => undefined);
        return res && { code: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
      };
      for (let tries = 0; tries < 150 && (await readiness())?.code !== 200; tries++)
        await new Promise((r) => setTimeout(r, 200));
      // One command service relays at a time (a lease): the stack's own holds it, and hands it over at its clean stop
      // (the extra ones of the tests above, which could take it instead, are stopped first).
      expect((await readiness())?.body).toMatchObject({ relay: 'standby' });
      await stack.stopExtras();
      const primary = stack.processes.commandService;
      primary.kill('SIGTERM');
      expect((await exitOf(primary)).code).toBe(0);
      // Nothing to publish yet: ready. A command runs, and its event cannot reach the broker.
      const command = { type: 'CreateOrg', orgId: newId('org'), name: 'Without a broker', parentId: null };
      expect((await send({ command, accessToken: app.adminToken }, {}, base)).status).toBe(200);
      let answer = await readiness();
      for (let tries = 0; tries < 300 && answer?.body.checks?.bus !== 'degraded'; tries++) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await readiness();
      }
      expect(answer).toMatchObject({
        code: 200,
        body: { checks: { eventStore: 'ok', bus: 'degraded' }, relay: 'active' },
      });
    } finally {
      service.kill('SIGTERM');
      await exitOf(service);
      await stack.restart('commandService');
    }
  }, 120_000);

  it('refuses to start off loopback without IAM_INTERNAL_TOKEN, in the command service and in a gateway', async () => {
    const [servicePort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    const launch = (main: string, env: Record<string, string>) =>
      exitOf(
        spawn(process.execPath, [join(ROOT, main)], {
          cwd: ROOT,
          env: { ...stack.env, ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        }),
      );
    const [service, gateway] = await Promise.all([
      launch('apps/command-service/dist/main.js', {
        COMMAND_SERVICE_PORT: String(servicePort),
        COMMAND_SERVICE_HOST: '0.0.0.0',
      }),
      launch('apps/gateway/dist/main.js', {
        PORT: String(gatewayPort),
        COMMAND_SERVICE_URL: 'http://10.255.255.1:8081',
      }),
    ]);
    for (const exited of [service, gateway]) {
      expect(exited.code).toBe(1);
      expect(exited.stderr).toContain('IAM_INTERNAL_TOKEN');
    }
  });
});
