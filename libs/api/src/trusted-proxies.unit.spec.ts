import { parseTrustedProxies } from './trusted-proxies';

describe('parseTrustedProxies (IAM_TRUSTED_PROXIES)', () => {
  it('trusts nobody when unset or empty', () => {
    expect(parseTrustedProxies(undefined)).toEqual([]);
    expect(parseTrustedProxies('')).toEqual([]);
    expect(parseTrustedProxies('  ')).toEqual([]);
  });

  it('takes express names, addresses and CIDR blocks, comma-separated', () => {
    expect(parseTrustedProxies('loopback, 10.0.0.0/8,192.0.2.7 , fd00::/8, uniquelocal, linklocal, ::1')).toEqual([
      'loopback',
      '10.0.0.0/8',
      '192.0.2.7',
      'fd00::/8',
      'uniquelocal',
      'linklocal',
      '::1',
    ]);
  });

  it('refuses anything else, also settings that would trust every client', () => {
    for (const bad of [
      'true',
      '1',
      'localhost',
      '10.0.0.0/33',
      'fd00::/129',
      '10.0.0.0/8/1',
      '10.0.0.0/',
      'loopback,,10.0.0.1',
      '*',
    ])
      expect(() => parseTrustedProxies(bad)).toThrow('IAM_TRUSTED_PROXIES');
  });
});
