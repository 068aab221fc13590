import { gatewayReady } from './start-gateway';

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
