import { throttleSource } from './throttle-keys';

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
    for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:9', '2001:db8:1:2::1%eth0', '2001:db8:1:2::10.0.0.1'])
      expect(throttleSource(same)).toBe(one);
    expect(throttleSource('2001:db8:1:3::1')).not.toBe(one);
    expect(throttleSource('::1')).toBe('0:0:0:0::/64');
    expect(throttleSource('fe80::')).toBe('fe80:0:0:0::/64');
  });

  it('puts callers without a usable address in one source', () => {
    for (const none of [undefined, '', 'not an address', '1.2.3']) expect(throttleSource(none)).toBe('unknown');
  });
});
