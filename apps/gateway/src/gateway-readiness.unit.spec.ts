import { commandServiceCheck, gatewayReady } from './start-gateway';

describe('gatewayReady', () => {
  const healthy = { eventStore: 'ok', readModels: 'ok', commandService: 'ok', projections: 'ok' };

  it('is ready when every check is ok', () => {
    expect(gatewayReady(healthy)).toBe(true);
  });

  it('stays ready while the shared services behind it are down: it still serves reads, logins and tokens', () => {
    expect(gatewayReady({ ...healthy, commandService: 'unreachable' })).toBe(true);
    expect(gatewayReady({ ...healthy, commandService: 'not ready' })).toBe(true);
    expect(gatewayReady({ ...healthy, bus: 'degraded' })).toBe(true);
  });

  it('is not ready for what fails this gateway: its stores, its projections, its internal token', () => {
    expect(gatewayReady({ ...healthy, eventStore: 'unreachable' })).toBe(false);
    expect(gatewayReady({ ...healthy, eventStore: 'failing (53100)' })).toBe(false);
    expect(gatewayReady({ ...healthy, readModels: 'unreachable' })).toBe(false);
    expect(gatewayReady({ ...healthy, projections: 'catching up (10/99)' })).toBe(false);
    expect(
      gatewayReady({
        ...healthy,
        commandService: 'refuses IAM_INTERNAL_TOKEN (the gateway and the command service must share it)',
      }),
    ).toBe(false);
  });
});

describe('commandServiceCheck', () => {
  const mine = { issuer: 'https://id.example.com', audience: 'https://id.example.com/api/v1', kid: 'kid-now' };
  const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  const verifies = { issuer: mine.issuer, audience: mine.audience, kids: ['kid-old', 'kid-now'] };

  it('is ok when the command service is ready and verifies what this gateway signs', async () => {
    expect(await commandServiceCheck(answer(200, { checks: { bus: 'ok' }, verifies }), mine)).toEqual({
      commandService: 'ok',
      bus: 'ok',
    });
  });

  it('names the setting to share when the command service could verify none of this gateway’s tokens', async () => {
    const otherIssuer = await commandServiceCheck(
      answer(200, { verifies: { ...verifies, issuer: 'http://localhost:8080' } }),
      mine,
    );
    expect(otherIssuer.commandService).toMatch(/IAM_ISSUER and IAM_AUDIENCE must be the same/);
    const otherAudience = await commandServiceCheck(
      answer(200, { verifies: { ...verifies, audience: 'http://localhost:8080/api/v1' } }),
      mine,
    );
    expect(otherAudience.commandService).toMatch(/IAM_ISSUER and IAM_AUDIENCE must be the same/);
    const otherKeys = await commandServiceCheck(answer(200, { verifies: { ...verifies, kids: ['kid-own'] } }), mine);
    expect(otherKeys.commandService).toMatch(/must share the keys directory/);
    for (const check of [otherIssuer, otherAudience, otherKeys])
      expect(gatewayReady({ eventStore: 'ok', ...check })).toBe(false);
  });

  it('keeps the other answers: not ready, a refused internal token, and an older command service saying nothing', async () => {
    expect(await commandServiceCheck(answer(503, { checks: { bus: 'degraded' }, verifies }), mine)).toEqual({
      commandService: 'not ready',
      bus: 'degraded',
    });
    expect((await commandServiceCheck(answer(401, {}), mine)).commandService).toMatch(/refuses IAM_INTERNAL_TOKEN/);
    expect(await commandServiceCheck(answer(200, { checks: { bus: 'ok' } }), mine)).toEqual({
      commandService: 'ok',
      bus: 'ok',
    });
  });
});
