import { deliveryAddressProblem, isPublicAddress, privateTargetProblem } from './target-address';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.5.6.7',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fe80::1',
    'fd12:3456::1',
    'fc00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a00:1',
    '::127.0.0.1',
    '::7f00:1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    '2002:c0a8:101::1',
    'localhost',
    'not an address',
  ])('refuses %s', (ip) => expect(isPublicAddress(ip)).toBe(false));

  // Documentation, relay, benchmarking and deprecated ranges (IANA special-purpose registries, RFC 6890 and later).
  it.each([
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '192.88.99.1',
    '2001:db8::1',
    '3fff::1',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:2::1',
    '2001:10::1',
    '5f00::1',
    'fec0::1',
    'feff::1',
    '::ffff:0:7f00:1',
    '::ffff:0:10.0.0.1',
    '64:ff9b:1::a00:1',
    '2002:c000:201::1',
    // Outside global unicast (2000::/3), IPv4-compatible (deprecated), with a zone.
    '4000::1',
    '::1:0:0:1',
    '::8.8.8.8',
    '100:0:0:1::1',
    '::ffff:0:7f00:1%1.2.3.4',
    '2606:4700::1111%eth0',
  ])('refuses %s', (ip) => expect(isPublicAddress(ip)).toBe(false));

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '192.169.0.1',
    '203.0.114.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '2001:4860:4860::8888',
    '2001:200::1',
  ])('accepts %s', (ip) => expect(isPublicAddress(ip)).toBe(true));
  it.each(['64:ff9b::808:808', '2002:808:808::1'])('accepts %s (a public IPv4 address inside)', (ip) =>
    expect(isPublicAddress(ip)).toBe(true),
  );
});

describe('deliveryAddressProblem', () => {
  it.each([
    '169.254.169.254',
    '169.254.170.2',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '100.100.100.200',
    'fd00:ec2::254',
    'fe80::1',
    '64:ff9b:1:a9fe:a9:fe00::',
  ])('refuses %s even where private targets are allowed', (ip) =>
    expect(deliveryAddressProblem(ip, true)).toMatch(/metadata/),
  );
  it('refuses other non-public addresses only where private targets are not allowed', () => {
    expect(deliveryAddressProblem('127.0.0.1', true)).toBeUndefined();
    expect(deliveryAddressProblem('::ffff:127.0.0.1', false)).toMatch(/private/);
    expect(deliveryAddressProblem('8.8.8.8', false)).toBeUndefined();
    expect(deliveryAddressProblem('host.example', true)).toMatch(/not an IP address/);
  });
});

describe('privateTargetProblem', () => {
  it('names loopback, private and localhost targets, not public ones or names it cannot resolve here', () => {
    expect(privateTargetProblem('http://localhost:8080/x')).toMatch(/localhost/);
    expect(privateTargetProblem('http://api.localhost/x')).toMatch(/localhost/);
    // With the root's dot, in any case.
    for (const url of ['http://localhost./x', 'http://foo.LocalHost./h', 'http://a.b.localhost.:9/x'])
      expect([url, privateTargetProblem(url)]).toEqual([url, expect.stringMatching(/localhost/)]);
    expect(privateTargetProblem('http://notlocalhost./x')).toBeUndefined();
    expect(privateTargetProblem('http://127.0.0.1/x')).toMatch(/private/);
    expect(privateTargetProblem('http://[::ffff:10.0.0.1]/x')).toMatch(/private/);
    expect(privateTargetProblem('http://0x7f000001/x')).toMatch(/private/);
    expect(privateTargetProblem('https://hooks.example.com/x')).toBeUndefined();
    expect(privateTargetProblem('https://8.8.8.8/x')).toBeUndefined();
  });
  it('allows private targets where the operator does, never cloud metadata', () => {
    expect(privateTargetProblem('http://localhost:8080/x', true)).toBeUndefined();
    expect(privateTargetProblem('http://10.0.0.1/x', true)).toBeUndefined();
    expect(privateTargetProblem('http://169.254.169.254/latest', true)).toMatch(/metadata/);
    expect(privateTargetProblem('http://[::ffff:169.254.169.254]/', true)).toMatch(/metadata/);
  });
});
