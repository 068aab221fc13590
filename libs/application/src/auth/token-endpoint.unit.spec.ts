import { IamError } from '@arbor/domain';
import type { PasswordHasher } from '../security/password-hasher';
import { TokenAudiences } from './token-audiences';
import { LoginThrottle } from './login-throttle';
import { MemoryThrottleStore, throttleVault } from './throttle.test-support';
import { TokenEndpoint, type TokenEndpointDeps } from './token-endpoint';

/** Only what a password grant touches before hashing; anything else would throw. */
function endpoint(
  hasher: Partial<PasswordHasher>,
  lookups: string[],
  store = new MemoryThrottleStore(),
): TokenEndpoint {
  const unused = new Proxy(
    {},
    {
      get: (_t, name) => {
        throw new Error(`not expected: ${String(name)}`);
      },
    },
  );
  const deps = {
    tokens: unused,
    hasher,
    vault: {
      getPasswordHash: async () => {
        lookups.push('vault');
        return undefined;
      },
    },
    readModels: {
      users: {
        findByEmail: async () => {
          lookups.push('user');
          return undefined;
        },
      },
    },
    tokenStore: unused,
    clients: unused,
    throttle: new LoginThrottle(store, throttleVault()),
    audiences: new TokenAudiences('http://arbor.test/api/v1'),
  } as unknown as TokenEndpointDeps;
  return new TokenEndpoint(deps);
}

describe('TokenEndpoint password grant', () => {
  const login = { grant_type: 'password', username: 'ada@example.test', password: 'pw' };

  it('sheds with 429 slow_down before any lookup while the hasher is saturated', async () => {
    const lookups: string[] = [];
    const result = await endpoint(
      {
        saturated: true,
        verify: async () => {
          throw new Error('must not hash');
        },
      },
      lookups,
    ).grant(login);
    expect(result).toMatchObject({ ok: false, status: 429, error: 'slow_down', retryAfterSeconds: 1 });
    expect(lookups).toEqual([]);
  });

  it('looks the account up and hashes otherwise (an unknown account still costs a hash)', async () => {
    const lookups: string[] = [];
    let hashed = 0;
    const result = await endpoint({ saturated: false, verify: async () => (hashed++, false) }, lookups).grant(login);
    expect(result).toMatchObject({ ok: false, status: 400, error: 'invalid_grant' });
    expect(lookups).toEqual(['user']);
    expect(hashed).toBe(1);
  });

  it('gives the throttle points back when the hasher sheds the attempt after all (429 slow_down)', async () => {
    const store = new MemoryThrottleStore();
    const shed = async () => {
      throw new IamError('IAM_ERR_RATE_LIMITED', 'Too many password checks in flight; retry shortly.');
    };
    const result = await endpoint({ saturated: false, verify: shed }, [], store).grant(login, undefined, '192.0.2.1');
    expect(result).toMatchObject({ ok: false, status: 429, error: 'slow_down', retryAfterSeconds: 1 });
    expect([...store.counters.values()].map((c) => c.points)).toEqual([0, 0, 0]);
  });
});

describe('TokenEndpoint password grant and a disable during the login', () => {
  it('issues no session to a login during which the user was disabled, even once enabled again', async () => {
    const user = {
      id: 'usr_1',
      email: 'ada@example.test',
      name: 'Ada',
      status: 'active',
      platformAdmin: false,
      sessionsNotBefore: null as string | null,
    };
    const issued: string[] = [];
    const deps = {
      tokens: {
        issueAccessToken: () => (issued.push('access'), { token: 't', claims: { scope: '' }, expiresIn: 900 }),
      },
      hasher: {
        saturated: false,
        // The password is right, but while it was being checked an admin disabled and re-enabled the user.
        verify: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          user.sessionsNotBefore = new Date().toISOString();
          return true;
        },
      },
      vault: { getPasswordHash: async () => 'stored' },
      readModels: {
        users: { findByEmail: async () => ({ ...user }), get: async () => ({ ...user }) },
        memberships: { membershipRoots: async () => [] },
      },
      tokenStore: { saveRefreshToken: async () => void issued.push('refresh') },
      refreshTokens: { hash: async (t: string) => t },
      clients: {},
      throttle: new LoginThrottle(new MemoryThrottleStore(), throttleVault()),
      audiences: new TokenAudiences('http://arbor.test/api/v1'),
    } as unknown as TokenEndpointDeps;
    const result = await new TokenEndpoint(deps).grant({
      grant_type: 'password',
      username: user.email,
      password: 'right',
    });
    expect(result).toMatchObject({ ok: false, status: 400, error: 'invalid_grant' });
    expect(issued).toEqual([]);
  });
});
