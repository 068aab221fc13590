import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { MAX_DEFAULT_WORKERS, defaultWorkerCount, standaloneConfigFromEnv as configFromEnv } from '.';

describe('configFromEnv', () => {
  it('leaves the subtree cache at its default unless IAM_SUBTREE_CACHE_ENTRIES says otherwise', () => {
    expect(configFromEnv({}).subtreeCacheEntries).toBeUndefined();
    expect(configFromEnv({ IAM_SUBTREE_CACHE_ENTRIES: '0' }).subtreeCacheEntries).toBe(0);
    expect(configFromEnv({ IAM_SUBTREE_CACHE_ENTRIES: '1000' }).subtreeCacheEntries).toBe(1000);
  });

  it('derives the token audience from the issuer unless IAM_AUDIENCE says otherwise, and reads IAM_RESOURCES', () => {
    expect(configFromEnv({ IAM_ISSUER: 'https://iam.example/' })).toMatchObject({
      audience: 'https://iam.example/api/v1',
      resources: [],
    });
    expect(
      configFromEnv({ IAM_AUDIENCE: 'https://api.example', IAM_RESOURCES: 'https://a.example,https://b.example' }),
    ).toMatchObject({
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

  it('keeps request metadata 365 days unless IAM_AUDIT_RETENTION_DAYS says otherwise (0: for ever)', () => {
    expect(configFromEnv({}).auditRetentionDays).toBe(365);
    expect(configFromEnv({ IAM_AUDIT_RETENTION_DAYS: '0' }).auditRetentionDays).toBe(0);
    expect(configFromEnv({ IAM_AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
    for (const bad of ['-1', '0.5', 'a year', '36501'])
      expect(() => configFromEnv({ IAM_AUDIT_RETENTION_DAYS: bad })).toThrow('IAM_AUDIT_RETENTION_DAYS');
  });

  it('paces webhook deliveries by IAM_WEBHOOK_RETRY_BASE_MS, IAM_WEBHOOK_MAX_FAILURES and IAM_WEBHOOK_TIMEOUT_MS', () => {
    expect(configFromEnv({}).webhookDispatch).toEqual({ retryBaseMs: 5000, maxFailures: 20, timeoutMs: 10_000 });
    expect(
      configFromEnv({ IAM_WEBHOOK_RETRY_BASE_MS: '50', IAM_WEBHOOK_MAX_FAILURES: '3', IAM_WEBHOOK_TIMEOUT_MS: '500' })
        .webhookDispatch,
    ).toEqual({ retryBaseMs: 50, maxFailures: 3, timeoutMs: 500 });
    expect(() => configFromEnv({ IAM_WEBHOOK_MAX_FAILURES: '0' })).toThrow('IAM_WEBHOOK_MAX_FAILURES');
    expect(() => configFromEnv({ IAM_WEBHOOK_RETRY_BASE_MS: 'soon' })).toThrow('IAM_WEBHOOK_RETRY_BASE_MS');
  });
});

describe('configFromEnv: IAM_TRUSTED_PROXIES', () => {
  it('trusts no proxy by default and reads the list otherwise', () => {
    expect(configFromEnv({}).trustedProxies).toEqual([]);
    expect(configFromEnv({ IAM_TRUSTED_PROXIES: 'loopback,10.0.0.0/8' }).trustedProxies).toEqual([
      'loopback',
      '10.0.0.0/8',
    ]);
    expect(() => configFromEnv({ IAM_TRUSTED_PROXIES: 'true' })).toThrow('IAM_TRUSTED_PROXIES');
  });
});

describe('configFromEnv: the checks every app shares', () => {
  it.each([
    [{ HOST: 'not a host' }, 'HOST must be an IP address or a host name, not "not a host"'],
    [
      { IAM_ISSUER: 'id.example.test' },
      'IAM_ISSUER must be an http(s) URL without query or fragment, not "id.example.test"',
    ],
    [{ IAM_DATA_DIR: __filename }, `IAM_DATA_DIR must be a directory, not the file "${__filename}"`],
    [{ IAM_LOG_LEVEL: 'debug' }, 'IAM_LOG_LEVEL must be info, warn, error or silent, not "debug"'],
    [{ PORT: '0x50' }, 'PORT must be an integer from 0 to 65535, not "0x50"'],
  ])('refuses %j: %s', (bad, message) => {
    expect(() => configFromEnv(bad)).toThrow(message);
  });

  it('names every bad variable at once, one per line', () => {
    expect(() => configFromEnv({ PORT: 'eighty', IAM_LOG_LEVEL: 'loud' })).toThrow(
      'PORT must be an integer from 0 to 65535, not "eighty"\nIAM_LOG_LEVEL must be info, warn, error or silent, not "loud"',
    );
  });

  it('takes an empty variable as unset, as the distributed processes do', () => {
    expect(configFromEnv({ PORT: '', IAM_LOG_LEVEL: '', HOST: '', IAM_DATA_DIR: '' })).toMatchObject({
      port: 8080,
      logLevel: 'info',
      host: undefined,
      dataDir: resolve('./data'),
    });
  });
});

describe('configFromEnv: IAM_WORKERS', () => {
  it('defaults to one HTTP worker per core, at least 1 and at most MAX_DEFAULT_WORKERS', () => {
    expect(defaultWorkerCount(1)).toBe(1);
    expect(defaultWorkerCount(2)).toBe(2);
    expect(defaultWorkerCount(64)).toBe(MAX_DEFAULT_WORKERS);
    expect(MAX_DEFAULT_WORKERS).toBe(8);
    // Unset: the cores this process may use (the same function, with the machine's count).
    expect(configFromEnv({}).workers).toBe(defaultWorkerCount(availableParallelism()));
  });

  it('takes a whole number of processes from 1 to 64 (1: one process serves everything)', () => {
    expect(configFromEnv({ IAM_WORKERS: '1' }).workers).toBe(1);
    expect(configFromEnv({ IAM_WORKERS: '3' }).workers).toBe(3);
    expect(configFromEnv({ IAM_WORKERS: '64' }).workers).toBe(64);
    // Empty is unset, as for every variable.
    expect(configFromEnv({ IAM_WORKERS: '' }).workers).toBe(defaultWorkerCount());
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['0', '-2', '1.5', 'two', '65', ' 2x'])
      expect(() => configFromEnv({ IAM_WORKERS: bad })).toThrow('IAM_WORKERS');
  });
});
