import { createOrg, startTestApp, type CallOptions, type CallResult, type TestApp } from './test-support/test-app';

/**
 * Contract section 3, login throttling, end to end: guesses in parallel get no more checks than the limits
 * allow, guessing from one source never locks the owner out for longer than a short delay, one source
 * spreading guesses over many accounts is stopped, and the counters outlive a restart. The app trusts
 * loopback as a proxy (IAM_TRUSTED_PROXIES=loopback), so X-Forwarded-For plays the sources.
 */

const TOKENS = '/api/v1/auth/tokens';
const INTROSPECT = '/api/v1/auth/tokens/introspect';
const PASSWORD = 'throttling-spec password';
const TRUST_LOOPBACK = { trustedProxies: ['loopback'] };

let app: TestApp;
let org: any;
let seq = 0;

beforeAll(async () => {
  app = await startTestApp(TRUST_LOOPBACK);
  org = await createOrg(app, 'Throttling');
});
afterAll(() => app.close());

/** A source address no other test uses (TEST-NET-3 and 10/8 hold enough). */
const newSource = (): string => `10.0.${Math.floor(++seq / 250)}.${(seq % 250) + 1}`;

function form(fields: Record<string, string>, address: string, headers: Record<string, string> = {}): CallOptions {
  return {
    token: null,
    rawBody: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address, ...headers },
  };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const passwordGrant = (on: TestApp, username: string, password: string, address: string): Promise<CallResult> =>
  on.call('POST', TOKENS, form({ grant_type: 'password', username, password }, address));

const clientGrant = (clientId: string, secret: string, address: string): Promise<CallResult> =>
  app.call(
    'POST',
    TOKENS,
    form({ grant_type: 'client_credentials' }, address, { authorization: basic(clientId, secret) }),
  );

async function createUser(on: TestApp = app, orgId: string = org.id): Promise<string> {
  const email = `user${++seq}@throttling.test`;
  const res = await on.call('POST', `/api/v1/orgs/${orgId}/users`, {
    body: { email, name: `User ${seq}`, password: PASSWORD, roles: ['member'] },
  });
  expect(res.status).toBe(201);
  return email;
}

async function createClient(): Promise<{ clientId: string; secret: string }> {
  const res = await app.call('POST', '/api/v1/oauth2/client-credentials', {
    body: { name: `client ${++seq}`, orgId: org.id, scopes: ['orgs:read'] },
  });
  expect(res.status).toBe(201);
  return { clientId: res.body.clientId, secret: res.body.clientSecret };
}

/** 429 with RFC 6749 `slow_down`, `Retry-After` in whole seconds (at most the longest window), `no-store`. */
function expectSlowDown(res: CallResult): number {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 429,
    body: { error: 'slow_down', error_description: expect.any(String) },
  });
  expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const seconds = Number(res.headers.get('retry-after'));
  expect(seconds).toBeLessThanOrEqual(3600);
  return seconds;
}

/** Tries `attempt` again after each 429's Retry-After, which must stay short; returns the first other answer. */
async function patiently(attempt: () => Promise<CallResult>, maxDelaySeconds = 90): Promise<CallResult> {
  for (let tries = 0; tries < 5; tries++) {
    const res = await attempt();
    if (res.status !== 429) return res;
    const seconds = expectSlowDown(res);
    expect(seconds).toBeLessThanOrEqual(maxDelaySeconds);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
  throw new Error('still throttled after 5 tries');
}

describe('password grant throttling', () => {
  it('checks at most 5 of 60 parallel wrong passwords for one account: attempts in flight count', async () => {
    const email = await createUser();
    const source = newSource();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => passwordGrant(app, email, `wrong ${i}`, source)),
    );
    const checked = answers.filter((r) => r.status === 400);
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(5);
    for (const r of checked) expect(r.body.error).toBe('invalid_grant');
    for (const r of answers.filter((x) => x.status !== 400)) expectSlowDown(r);
  });

  it('blocks only the guessing source: the right password from elsewhere works, waiting at most a short delay', async () => {
    const email = await createUser();
    const attacker = newSource();
    for (let i = 0; i < 5; i++) expect((await passwordGrant(app, email, `guess ${i}`, attacker)).status).toBe(400);
    // The attacker's source is refused, even with the right password.
    const retryAfter = expectSlowDown(await passwordGrant(app, email, PASSWORD, attacker));
    expect(retryAfter).toBeGreaterThan(60);

    const owner = newSource();
    expect((await passwordGrant(app, email, PASSWORD, owner)).status).toBe(200);

    // Guesses from further sources take the account's one attempt per delay; the owner waits at most that.
    const guesses = await Promise.all(
      [newSource(), newSource(), newSource()].map((s) => passwordGrant(app, email, 'another guess', s)),
    );
    expect(guesses.filter((r) => r.status === 400).length).toBeLessThanOrEqual(1);
    for (const r of guesses) if (r.status === 400) expect(r.body.error).toBe('invalid_grant');
    for (const r of guesses.filter((x) => x.status !== 400)) expectSlowDown(r);
    expect((await patiently(() => passwordGrant(app, email, PASSWORD, owner))).status).toBe(200);
  });

  it('stops one source spreading guesses over many accounts after 50 failures', async () => {
    const attacker = newSource();
    for (let account = 0; account < 10; account++)
      for (let i = 0; i < 5; i++)
        expect((await passwordGrant(app, `spread${account}@throttling.test`, `guess ${i}`, attacker)).status).toBe(400);
    // Accounts that exist and accounts that do not are throttled alike.
    const email = await createUser();
    expectSlowDown(await passwordGrant(app, email, 'guess', attacker));
    expectSlowDown(await passwordGrant(app, 'spread10@throttling.test', 'guess', attacker));
    expectSlowDown(await passwordGrant(app, email, PASSWORD, attacker));
    // Nobody else is.
    expect((await passwordGrant(app, email, PASSWORD, newSource())).status).toBe(200);
  });

  it('takes the source from X-Forwarded-For only when the proxy is trusted', async () => {
    // Trusted (this suite's app): five sources, one guess each, do not block a sixth.
    const email = await createUser();
    for (let i = 0; i < 5; i++) expect((await passwordGrant(app, email, `guess ${i}`, newSource())).status).toBe(400);
    expect((await passwordGrant(app, email, PASSWORD, newSource())).status).toBe(200);

    // Not trusted (the default): the header is ignored, so the same six attempts come from one source.
    const untrusted = await startTestApp();
    try {
      const root = await createOrg(untrusted, 'Untrusted');
      const victim = await createUser(untrusted, root.id);
      for (let i = 0; i < 5; i++)
        expect((await passwordGrant(untrusted, victim, `guess ${i}`, newSource())).status).toBe(400);
      expectSlowDown(await passwordGrant(untrusted, victim, PASSWORD, newSource()));
    } finally {
      await untrusted.close();
    }
  });

  it('keeps its counts across a restart', async () => {
    const first = await startTestApp(TRUST_LOOPBACK);
    const attacker = newSource();
    let email = '';
    try {
      const root = await createOrg(first, 'Restarted');
      email = await createUser(first, root.id);
      for (let i = 0; i < 5; i++) expect((await passwordGrant(first, email, `guess ${i}`, attacker)).status).toBe(400);
    } finally {
      await first.close();
    }
    const second = await startTestApp({ ...TRUST_LOOPBACK, dataDir: first.dataDir });
    try {
      expectSlowDown(await passwordGrant(second, email, PASSWORD, attacker));
      expect((await passwordGrant(second, email, PASSWORD, newSource())).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe('password grant throttling against a timed attacker with many addresses', () => {
  it("lets the owner in at once from a source it logged in from, while guessing from elsewhere holds the account's gate", async () => {
    const email = await createUser();
    const known = newSource();
    expect((await passwordGrant(app, email, PASSWORD, known)).status).toBe(200);

    // The attacker exhausts the account's allowance, then brings a fresh source for each opening of the gate
    // until a fresh source finds it closed for at least 4 s (three openings taken: 1 + 2 s, then 4 s).
    const attacker = newSource();
    for (let i = 0; i < 5; i++) expect((await passwordGrant(app, email, `guess ${i}`, attacker)).status).toBe(400);
    let closedFor = 0;
    for (let tries = 0; tries < 20 && closedFor < 4; tries++) {
      const res = await passwordGrant(app, email, `fresh guess ${tries}`, newSource());
      if (res.status === 400) continue;
      closedFor = expectSlowDown(res);
      if (closedFor < 4) await new Promise((resolve) => setTimeout(resolve, closedFor * 1000));
    }
    expect(closedFor).toBeGreaterThanOrEqual(4);

    // The gate is closed to every source new to the account, yet the owner at its known source gets in at once.
    expectSlowDown(await passwordGrant(app, email, PASSWORD, newSource()));
    expect((await passwordGrant(app, email, PASSWORD, known)).status).toBe(200);
    expect((await passwordGrant(app, email, PASSWORD, known)).status).toBe(200);
  });
});

describe('sources that trusted proxies write with a port', () => {
  it('counts 203.0.113.1:4321 and [2001:db8::1]:4321 as their addresses: distinct clients never share a bucket', async () => {
    const email = `portcheck${++seq}@throttling.test`;
    for (let i = 1; i <= 5; i++)
      expect((await passwordGrant(app, email, 'wrong', `203.0.113.${i}:4321`)).body.error).toBe('invalid_grant');
    // A different client, also written with a port, is not refused for the others' failures.
    const other = await passwordGrant(app, email, 'wrong', '198.51.100.77:5555');
    expect({ status: other.status, error: other.body.error }).toEqual({ status: 400, error: 'invalid_grant' });

    // The port does not make one client many: five failures from [v6]:port, each with a new port, block that /64.
    const victim = await createUser();
    for (let port = 1000; port < 1005; port++)
      expect((await passwordGrant(app, victim, 'wrong', `[2001:db8:77:1::1]:${port}`)).status).toBe(400);
    expectSlowDown(await passwordGrant(app, victim, PASSWORD, '[2001:db8:77:1::2]:2000'));
  });
});

describe('client authentication throttling', () => {
  it('answers at most 5 of 30 parallel wrong secrets with invalid_client; the rest are 429 slow_down', async () => {
    const client = await createClient();
    const source = newSource();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => clientGrant(client.clientId, `wrong-${i}`, source)),
    );
    const failed = answers.filter((r) => r.status === 401);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(5);
    for (const r of failed) expect(r.body.error).toBe('invalid_client');
    for (const r of answers.filter((x) => x.status !== 401)) expectSlowDown(r);
  });

  it('never refuses the right secret, not even from the guessing source; past the limits wrong ones are 429 slow_down', async () => {
    const client = await createClient();
    const attacker = newSource();
    for (let i = 0; i < 5; i++) expect((await clientGrant(client.clientId, `guess-${i}`, attacker)).status).toBe(401);
    expectSlowDown(await clientGrant(client.clientId, 'guess-5', attacker));
    const introspectFrom = (address: string, secret: string) =>
      app.call('POST', INTROSPECT, form({ token: 'x' }, address, { authorization: basic(client.clientId, secret) }));
    expectSlowDown(await introspectFrom(attacker, 'guess-6'));
    expect((await clientGrant(client.clientId, client.secret, attacker)).status).toBe(200);

    // Guesses from many more sources push the client past its own limit: their wrong secrets are refused...
    const more = await Promise.all(
      Array.from({ length: 10 }, (_, i) => clientGrant(client.clientId, `guess-${i}`, newSource())),
    );
    expect(more.filter((r) => r.status === 401)).toHaveLength(0);
    for (const r of more) expectSlowDown(r);
    // ...and still the owner's right secret works at once, as often as it likes.
    const owner = newSource();
    for (let i = 0; i < 3; i++) expect((await clientGrant(client.clientId, client.secret, owner)).status).toBe(200);
    expect((await introspectFrom(owner, client.secret)).status).toBe(200);
  });
});
