import { distributedSettingsFromEnv, isLoopbackHost, requireInternalTokenOffLoopback } from './distributed-settings';

describe('the internal command API off loopback', () => {
  const env = { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'k:9092' };

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', 'LOCALHOST', '::1', '[::1]']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.test', '128.0.0.1', '127.0.0.1.example.test']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses a command service listening, or a gateway sending, off loopback without IAM_INTERNAL_TOKEN', () => {
    expect(() => requireInternalTokenOffLoopback(distributedSettingsFromEnv(env), 'command-service')).not.toThrow();
    expect(() => requireInternalTokenOffLoopback(distributedSettingsFromEnv(env), 'gateway')).not.toThrow();
    const exposed = distributedSettingsFromEnv({ ...env, COMMAND_SERVICE_HOST: '0.0.0.0', COMMAND_SERVICE_URL: 'http://command-service:8081' });
    expect(() => requireInternalTokenOffLoopback(exposed, 'command-service')).toThrow(/IAM_INTERNAL_TOKEN/);
    expect(() => requireInternalTokenOffLoopback(exposed, 'gateway')).toThrow(/IAM_INTERNAL_TOKEN/);
    const withToken = distributedSettingsFromEnv({ ...env, COMMAND_SERVICE_HOST: '0.0.0.0', COMMAND_SERVICE_URL: 'http://command-service:8081', IAM_INTERNAL_TOKEN: 's' });
    expect(() => requireInternalTokenOffLoopback(withToken, 'command-service')).not.toThrow();
    expect(() => requireInternalTokenOffLoopback(withToken, 'gateway')).not.toThrow();
  });

  it('validates the issuer', () => {
    expect(distributedSettingsFromEnv({ ...env, PORT: '9000' }).issuer).toBe('http://localhost:9000');
    expect(distributedSettingsFromEnv({ ...env, IAM_ISSUER: 'https://id.example.test/' }).issuer).toBe('https://id.example.test');
    expect(() => distributedSettingsFromEnv({ ...env, IAM_ISSUER: 'id.example.test' })).toThrow(/IAM_ISSUER/);
  });
});
