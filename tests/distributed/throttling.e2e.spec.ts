import { freePort } from '../../apps/standalone/src/test-support/distributed-stack';
import { createOrg, startTestApp, type TestApp } from '../../apps/standalone/src/test-support/test-app';

/**
 * Login throttling with several gateways: the counters live in PostgreSQL, so a second gateway adds no
 * allowance (the profile-neutral suite apps/standalone/src/throttling.e2e.spec.ts covers the rules).
 */
describe('login throttling across gateways', () => {
  let app: TestApp;
  let second: string;
  beforeAll(async () => {
    app = await startTestApp();
    if (app.profile !== 'distributed') throw new Error('this suite runs in the distributed project only');
    const port = await freePort();
    await (
      app.running as import('../../apps/standalone/src/test-support/distributed-stack').DistributedStack
    ).spawnExtra('gateway', { PORT: String(port) });
    second = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.close());

  const grant = (base: string, fields: Record<string, string>) =>
    fetch(`${base}/api/v1/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

  it('shares the counts of one account between two gateways, also for a parallel burst', async () => {
    const org = await createOrg(app, 'Two gateways');
    const email = 'shared@throttling.test';
    const password = 'two gateways password';
    expect(
      (
        await app.call('POST', `/api/v1/orgs/${org.id}/users`, {
          body: { email, name: 'Shared', password, roles: ['member'] },
        })
      ).status,
    ).toBe(201);

    // Three guesses on one gateway, two on the other: the sixth attempt, anywhere, is refused.
    for (let i = 0; i < 5; i++)
      expect(
        (await grant(i < 3 ? app.url : second, { grant_type: 'password', username: email, password: `guess ${i}` }))
          .status,
      ).toBe(400);
    for (const base of [app.url, second]) {
      const refused = await grant(base, { grant_type: 'password', username: email, password });
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ error: 'slow_down' });
    }

    // A burst split over both gateways gets at most 5 checks in all.
    const other = 'burst@throttling.test';
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        grant(i % 2 ? second : app.url, { grant_type: 'password', username: other, password: `wrong ${i}` }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 400).every((s) => s === 429)).toBe(true);
  });
});
