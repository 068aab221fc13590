import { admissionBlock, throttleSource } from './throttle-keys';

describe('throttleSource', () => {
  it('counts IPv4 addresses one by one, IPv4-mapped IPv6 as IPv4', () => {
    expect(throttleSource('192.0.2.1')).toBe('192.0.2.1');
    expect(throttleSource('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleSource('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleSource('192.0.2.2')).not.toBe(throttleSource('192.0.2.1'));
  });

  it('counts IPv6 addresses by their /64, however they are written', () => {
    const one = throttleSource('2001:db8:1:2::1');
    expect(one).toBe('2001:db8:1:2::/64');
    for (const same of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0:0:0:9',
      '2001:db8:1:2::1%eth0',
      '2001:db8:1:2::10.0.0.1',
    ])
      expect(throttleSource(same)).toBe(one);
    expect(throttleSource('2001:db8:1:3::1')).not.toBe(one);
    expect(throttleSource('::1')).toBe('0:0:0:0::/64');
    expect(throttleSource('fe80::')).toBe('fe80:0:0:0::/64');
  });

  it('reads the forms proxies write: a port, brackets, zone ids, IPv4-mapped IPv6 in either notation', () => {
    for (const same of [
      '192.0.2.1:4321',
      ' 192.0.2.1 ',
      '[::ffff:192.0.2.1]:80',
      '::ffff:c000:201',
      '[::FFFF:C000:0201]',
    ])
      expect(throttleSource(same)).toBe('192.0.2.1');
    for (const same of [
      '[2001:db8:1:2::1]:4321',
      '[2001:db8:1:2::1]',
      '[2001:db8:1:2::1%eth0]:1',
      '2001:db8:1:2::1%25eth0',
    ])
      expect(throttleSource(same)).toBe('2001:db8:1:2::/64');
    expect(throttleSource('198.51.100.77:5555')).not.toBe(throttleSource('203.0.113.1:4321'));
  });

  it('never merges distinct clients whose value is no address: each is its own source', () => {
    const values = ['not an address', '1.2.3', 'unknown', '203.0.113.1:99999', '[2001:db8::1]:x', 'host.example:80'];
    const sources = values.map(throttleSource);
    expect(new Set(sources).size).toBe(values.length);
    for (const s of sources) expect(s).toMatch(/^literal:/);
    // Only a missing address (the socket already closed) has no source of its own.
    expect(throttleSource(undefined)).toBe('unknown');
    expect(throttleSource('')).toBe('unknown');
  });
});

describe('admissionBlock', () => {
  it('judges IPv6 sources by their /48 and any other source alone', () => {
    expect(admissionBlock(throttleSource('2001:db8:1:2::1'))).toBe('2001:db8:1::/48');
    expect(admissionBlock(throttleSource('2001:db8:1:ffff::1'))).toBe('2001:db8:1::/48');
    expect(admissionBlock(throttleSource('2001:db8:2:2::1'))).toBe('2001:db8:2::/48');
    expect(admissionBlock('192.0.2.1')).toBe('192.0.2.1');
    expect(admissionBlock('literal:x')).toBe('literal:x');
  });
});
