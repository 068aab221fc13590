import { configFromEnv } from './standalone-config';

describe('configFromEnv', () => {
  it('leaves the subtree cache at its default unless IAM_SUBTREE_CACHE_ENTRIES says otherwise', () => {
    expect(configFromEnv({}).subtreeCacheEntries).toBeUndefined();
    expect(configFromEnv({ IAM_SUBTREE_CACHE_ENTRIES: '0' }).subtreeCacheEntries).toBe(0);
    expect(configFromEnv({ IAM_SUBTREE_CACHE_ENTRIES: '1000' }).subtreeCacheEntries).toBe(1000);
  });

  it('derives the token audience from the issuer unless IAM_AUDIENCE says otherwise, and reads IAM_RESOURCES', () => {
    expect(configFromEnv({ IAM_ISSUER: 'https://iam.example/' })).toMatchObject({ audience: 'https://iam.example/api/v1', resources: [] });
    expect(configFromEnv({ IAM_AUDIENCE: 'https://api.example', IAM_RESOURCES: 'https://a.example,https://b.example' })).toMatchObject({
      audience: 'https://api.example',
      resources: ['https://a.example', 'https://b.example'],
    });
    expect(() => configFromEnv({ IAM_RESOURCES: 'not a uri' })).toThrow('IAM_RESOURCES');
  });

  it('refuses values that are not whole numbers in range', () => {
    for (const bad of ['-1', '1.5', 'lots', '100001']) {
      expect(() => configFromEnv({ IAM_SUBTREE_CACHE_ENTRIES: bad })).toThrow('IAM_SUBTREE_CACHE_ENTRIES');
    }
    expect(() => configFromEnv({ PORT: '70000' })).toThrow('PORT');
  });
});

describe('configFromEnv: IAM_TRUSTED_PROXIES', () => {
  it('trusts no proxy by default and reads the list otherwise', () => {
    expect(configFromEnv({}).trustedProxies).toEqual([]);
    expect(configFromEnv({ IAM_TRUSTED_PROXIES: 'loopback,10.0.0.0/8' }).trustedProxies).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => configFromEnv({ IAM_TRUSTED_PROXIES: 'true' })).toThrow('IAM_TRUSTED_PROXIES');
  });
});
