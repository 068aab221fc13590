import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may be delivered (issue 14 item 6, contract section 10): not to the server's own network. The
 * management API refuses such a target when it is written (an IP literal or `localhost`), and the dispatcher
 * checks every address a target's name resolves to at delivery time (a name may resolve anywhere), both with
 * `isPublicAddress`, unless the operator allows private targets (IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true).
 */

/** The ranges no webhook goes to: not publicly routable, or the host itself (RFC 6890 special-purpose registries). */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", the unspecified address (RFC 791, RFC 1122)
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback (RFC 1122)
  ['169.254.0.0', 16], // link-local, cloud metadata services among them (RFC 3927)
  ['172.16.0.0', 12], // private (RFC 1918)
  ['192.0.0.0', 24], // IETF protocol assignments (RFC 6890)
  ['192.0.2.0', 24], // documentation, TEST-NET-1 (RFC 5737)
  ['192.88.99.0', 24], // 6to4 relay anycast, deprecated (RFC 7526)
  ['192.168.0.0', 16], // private (RFC 1918)
  ['198.18.0.0', 15], // benchmarking (RFC 2544)
  ['198.51.100.0', 24], // documentation, TEST-NET-2 (RFC 5737)
  ['203.0.113.0', 24], // documentation, TEST-NET-3 (RFC 5737)
  ['224.0.0.0', 4], // multicast (RFC 5771)
  ['240.0.0.0', 4], // reserved, and the limited broadcast address (RFC 1112, RFC 919)
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified (RFC 4291)
  ['::1', 128], // loopback (RFC 4291)
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation (RFC 8215)
  ['100::', 64], // discard-only (RFC 6666)
  // IETF protocol assignments (RFC 2928): Teredo (RFC 4380, a tunnel to an address it hides), benchmarking,
  // ORCHID and a few anycast services, none of them a web server.
  ['2001::', 23],
  ['2001:db8::', 32], // documentation (RFC 3849)
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // segment routing SIDs (RFC 9602)
  ['fc00::', 7], // unique local (RFC 4193)
  ['fe80::', 10], // link-local (RFC 4291)
  ['fec0::', 10], // site-local, deprecated but still routed inside some sites (RFC 3879)
  ['ff00::', 8], // multicast (RFC 4291)
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** The 16-bit groups of an IPv6 address (no zone), or undefined when it does not parse as one. */
function groupsOf(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined;
  let text = ip.toLowerCase();
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

const ipv4Of = (high: number, low: number): string => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address carries and that a host may end up talking to: IPv4-mapped (`::ffff:a.b.c.d`,
 * RFC 4291 2.5.5.2), IPv4-translated (`::ffff:0:a.b.c.d`, RFC 2765), IPv4-compatible (`::a.b.c.d`, deprecated, RFC 4291 2.5.5.1), NAT64 (`64:ff9b::/96`, RFC 6052)
 * and 6to4 (`2002::/16`, RFC 3056); undefined for any other address.
 */
function embeddedIpv4(ip: string): string | undefined {
  const g = groupsOf(ip);
  if (!g) return undefined;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(5) && g[5] === 0xffff) return ipv4Of(g[6], g[7]);
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return ipv4Of(g[6], g[7]);
  if (zeroUpTo(6) && (g[6] !== 0 || g[7] > 1)) return ipv4Of(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4Of(g[6], g[7]);
  if (g[0] === 0x2002) return ipv4Of(g[1], g[2]);
  return undefined;
}

/**
 * Whether `ip` (an IPv4 or IPv6 address, without brackets or zone) is one a webhook may be delivered to: false
 * for loopback, private (RFC 1918), shared (RFC 6598), link-local, unique-local (RFC 4193), site-local, unspecified,
 * multicast, documentation, benchmarking, Teredo and reserved addresses, IPv6 forms that carry one of them (mapped, compatible, NAT64, 6to4) included,
 * and for anything that is not an IP address at all.
 */
export function isPublicAddress(ip: string): boolean {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined && NOT_PUBLIC.check(v4, 'ipv4')) return false;
  return !NOT_PUBLIC.check(address, 'ipv6');
}

/**
 * Addresses no webhook reaches even where the operator allows private targets: link-local (169.254.0.0/16 and
 * fe80::/10, where AWS, GCP and Azure serve instance metadata at 169.254.169.254 and ECS credentials at
 * 169.254.170.2), Alibaba's 100.100.100.200 and AWS's fd00:ec2::254, in any IPv6 form that carries them.
 */
const ALWAYS_REFUSED = new BlockList();
ALWAYS_REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_REFUSED.addAddress('100.100.100.200', 'ipv4');
ALWAYS_REFUSED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_REFUSED.addAddress('fd00:ec2::254', 'ipv6');

/**
 * Why the dispatcher may not connect to `ip` (an address a target's host resolved to, or its IP literal), or
 * undefined when it may: cloud metadata and link-local always; every non-public address unless `allowPrivate`
 * (IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS).
 */
export function deliveryAddressProblem(ip: string, allowPrivate: boolean): string | undefined {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(address);
  if (family === 0) return 'is not an IP address';
  const v4 = family === 4 ? address : embeddedIpv4(address);
  if ((v4 !== undefined && ALWAYS_REFUSED.check(v4, 'ipv4')) || (family === 6 && ALWAYS_REFUSED.check(address, 'ipv6')))
    return 'is a link-local or cloud metadata address';
  if (!allowPrivate && !isPublicAddress(address)) return 'is a private, loopback or link-local address';
  return undefined;
}

/**
 * Why a webhook target URL is refused when it is written, or undefined when it is not: its host is `localhost`
 * (or a name under `.localhost`, RFC 6761) or an IP literal that `isPublicAddress` refuses, unless `allowPrivate`
 * (IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS); a link-local or cloud metadata literal always (`deliveryAddressProblem`).
 * Host names are not resolved here (the dispatcher checks what they resolve to at each delivery). `url` must
 * parse as a URL.
 */
export function privateTargetProblem(url: string, allowPrivate = false): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return deliveryAddressProblem(literal, allowPrivate);
  // A fully qualified name may end with the root's dot (`foo.localhost.` is `foo.localhost`).
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (!allowPrivate && (name === 'localhost' || name.endsWith('.localhost'))) return 'names this host (localhost)';
  return undefined;
}
