import { distributedSettingsFromEnv, isLoopbackHost, logLevelFromEnv, requireInternalTokenOffLoopback } from '.';

describe('the internal command API off loopback', () => {
  const env = { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'k:9092' };

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', 'LOCALHOST', '::1', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.test', '128.0.0.1', '127.0.0.1.example.test'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses a command service listening, or a gateway sending, off loopback without IAM_INTERNAL_TOKEN', () => {
    expect(() => requireInternalTokenOffLoopback(distributedSettingsFromEnv(env), 'command-service')).not.toThrow();
    expect(() => requireInternalTokenOffLoopback(distributedSettingsFromEnv(env), 'gateway')).not.toThrow();
    const exposed = distributedSettingsFromEnv({
      ...env,
      COMMAND_SERVICE_HOST: '0.0.0.0',
      COMMAND_SERVICE_URL: 'http://command-service:8081',
    });
    expect(() => requireInternalTokenOffLoopback(exposed, 'command-service')).toThrow(/IAM_INTERNAL_TOKEN/);
    expect(() => requireInternalTokenOffLoopback(exposed, 'gateway')).toThrow(/IAM_INTERNAL_TOKEN/);
    const withToken = distributedSettingsFromEnv({
      ...env,
      COMMAND_SERVICE_HOST: '0.0.0.0',
      COMMAND_SERVICE_URL: 'http://command-service:8081',
      IAM_INTERNAL_TOKEN: 's',
    });
    expect(() => requireInternalTokenOffLoopback(withToken, 'command-service')).not.toThrow();
    expect(() => requireInternalTokenOffLoopback(withToken, 'gateway')).not.toThrow();
  });

  it('validates the issuer', () => {
    expect(distributedSettingsFromEnv({ ...env, PORT: '9000' }).issuer).toBe('http://localhost:9000');
    expect(distributedSettingsFromEnv({ ...env, IAM_ISSUER: 'https://id.example.test/' }).issuer).toBe(
      'https://id.example.test',
    );
    expect(() => distributedSettingsFromEnv({ ...env, IAM_ISSUER: 'id.example.test' })).toThrow(/IAM_ISSUER/);
  });
});

describe('the distributed settings are checked when read', () => {
  const env = { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'k:9092' };

  it('takes the gateway port, host and data directory from PORT, HOST and IAM_DATA_DIR', () => {
    const settings = distributedSettingsFromEnv({ ...env, PORT: '9000', HOST: '127.0.0.1', IAM_DATA_DIR: '/tmp' });
    expect(settings).toMatchObject({ port: 9000, host: '127.0.0.1', dataDir: '/tmp' });
    expect(distributedSettingsFromEnv({ ...env, HOST: '[::1]' }).host).toBe('::1');
    expect(distributedSettingsFromEnv({ ...env, HOST: 'gateway-1.internal' }).host).toBe('gateway-1.internal');
    expect(distributedSettingsFromEnv(env)).toMatchObject({ port: 8080, host: '0.0.0.0' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535, not "eighty"'],
    [{ PORT: '65536' }, 'PORT must be an integer from 0 to 65535, not "65536"'],
    [{ PORT: '80.5' }, 'PORT must be an integer from 0 to 65535, not "80.5"'],
    [{ PORT: '-1' }, 'PORT must be an integer from 0 to 65535, not "-1"'],
    [{ COMMAND_SERVICE_PORT: '0x50' }, 'COMMAND_SERVICE_PORT must be an integer from 0 to 65535, not "0x50"'],
    [{ HOST: 'not a host' }, 'HOST must be an IP address or a host name, not "not a host"'],
    [
      { COMMAND_SERVICE_HOST: 'under_score' },
      'COMMAND_SERVICE_HOST must be an IP address or a host name, not "under_score"',
    ],
    [
      { COMMAND_SERVICE_URL: 'command-service:8081' },
      'COMMAND_SERVICE_URL must be an http(s) URL, not "command-service:8081"',
    ],
    [
      { IAM_ISSUER: 'https://id.example.test/?x=1' },
      'IAM_ISSUER must be an http(s) URL without query or fragment, not "https://id.example.test/?x=1"',
    ],
    [{ IAM_DATA_DIR: __filename }, `IAM_DATA_DIR must be a directory, not the file "${__filename}"`],
    [{ IAM_LOG_LEVEL: 'debug' }, 'IAM_LOG_LEVEL must be info, warn, error or silent, not "debug"'],
    [{ IAM_PASSWORD_COST_LOG2: 'high' }, 'IAM_PASSWORD_COST_LOG2 must be an integer from 10 to 20, not "high"'],
    [{ IAM_PG_SCHEMA: 'Arbor-1' }, 'IAM_PG_SCHEMA must be a lower-case SQL identifier, not "Arbor-1"'],
  ])('refuses %j: %s', (bad, message) => {
    expect(() => distributedSettingsFromEnv({ ...env, ...bad })).toThrow(message);
  });

  it.each([
    ['COMMAND_SERVICE_URL', 'ftp://svc:CmdS3cret@command-service:8081', 'ftp://***@command-service:8081'],
    ['COMMAND_SERVICE_URL', 'svc:CmdS3cret@command-service', '***@command-service'],
    ['IAM_ISSUER', 'https://u:p@ss@id.example.test/?x=1', 'https://***@id.example.test/?x=1'],
    ['READ_MODELS_URL', 'mongodb://arbor:CmdS3cret@db host/iam', 'mongodb://***@db host/iam'],
    ['READ_MODELS_URL', 'mongodb://u:CmdS3cret@h/ia%ZZ', 'mongodb://***@h/ia%ZZ'],
    ['READ_MODELS_URL', 'mongodb://u:Cmd#S3cret@h', 'mongodb://***@h'],
    ['READ_MODELS_URL', 'mongodb://u:Cmd?S3 cret@h', 'mongodb://***@h'],
    ['READ_MODELS_URL', ' mongodb://u:CmdS3cret@h', 'mongodb://***@h'],
    ['IAM_ISSUER', 'https://u:CmdS3cret#x@id.example/', 'https://***@id.example/'],
  ])('quotes a refused %s without its credentials: %s', (name, raw, quoted) => {
    let message = '';
    try {
      distributedSettingsFromEnv({ ...env, [name]: raw });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`"${quoted}"`);
    expect(message).not.toMatch(/CmdS3cret|p@ss/);
  });

  it('does not quote a database name read from a URL with an `@` (a password with a `/` ends up there)', () => {
    expect(() =>
      distributedSettingsFromEnv({ ...env, READ_MODELS_URL: 'mongodb://app:pa/CmdS3cret@mongo/iam' }),
    ).toThrow(/^(?!.*CmdS3cret).*READ_MODELS_URL names a database MongoDB cannot hold \(its path/);
  });

  it('checks the log level on its own too (the projector of either profile reads it)', () => {
    expect(logLevelFromEnv({})).toBe('info');
    expect(logLevelFromEnv({ IAM_LOG_LEVEL: 'warn' })).toBe('warn');
    expect(() => logLevelFromEnv({ IAM_LOG_LEVEL: 'verbose' })).toThrow(
      'IAM_LOG_LEVEL must be info, warn, error or silent, not "verbose"',
    );
  });
});

describe('DATABASE_URL', () => {
  const env = { KAFKA_BROKERS: 'k:9092' };

  it('takes a postgres:// or postgresql:// URL', () => {
    for (const url of ['postgres://arbor:pw@db:5432/arbor', 'postgresql://db/arbor?sslmode=require'])
      expect(distributedSettingsFromEnv({ ...env, DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('refuses anything else naming the variable, without the password', () => {
    for (const url of ['postgres//arbor:s3cret@db/arbor', 'mysql://arbor:s3cret@db/arbor', 'db:5432', 'postgres://'])
      expect(() => distributedSettingsFromEnv({ ...env, DATABASE_URL: url })).toThrow(
        /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/,
      );
    let message = '';
    try {
      distributedSettingsFromEnv({ ...env, DATABASE_URL: 'postgres//arbor:s3cret@db/arbor' });
    } catch (e) {
      message = String(e);
    }
    expect(message).toMatch(/DATABASE_URL/);
    expect(message).not.toContain('s3cret');
  });
});
