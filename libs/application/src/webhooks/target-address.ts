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

/** IPv6 global unicast (RFC 4291 section 2.4, RFC 3587): every other IPv6 range is special-purpose or unassigned. */
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/**
 * The IPv4 address an IPv6 address carries and that a host may end up talking to, and how: `translation` for
 * IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 2.5.5.2), IPv4-translated (`::ffff:0:a.b.c.d`, RFC 2765) and NAT64
 * (`64:ff9b::/96`, RFC 6052), which reach exactly that IPv4 address; `tunnel` for 6to4 (`2002::/16`, RFC 3056) and
 * the local-use NAT64 prefix (`64:ff9b:1::/48`, RFC 8215, the RFC 6052 layout of a /48); `compatible` for
 * IPv4-compatible (`::a.b.c.d`, deprecated by RFC 4291 2.5.5.1). Undefined for any other address.
 */
function embeddedIpv4(ip: string): { v4: string; form: 'translation' | 'tunnel' | 'compatible' } | undefined {
  const g = groupsOf(ip);
  if (!g) return undefined;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const at = (form: 'translation' | 'tunnel' | 'compatible', high: number, low: number) => ({
    v4: ipv4Of(high, low),
    form,
  });
  if (zeroUpTo(5) && g[5] === 0xffff) return at('translation', g[6], g[7]);
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return at('translation', g[6], g[7]);
  if (zeroUpTo(6) && (g[6] !== 0 || g[7] > 1)) return at('compatible', g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return at('translation', g[6], g[7]);
  // A /48 prefix: the IPv4 address in bits 48-63 and 72-87 (bits 64-71 are zero).
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return at('tunnel', g[3], ((g[4] & 0xff) << 8) | (g[5] >> 8));
  if (g[0] === 0x2002) return at('tunnel', g[1], g[2]);
  return undefined;
}

/** `ip` without brackets, or undefined when it carries a zone (`%eth0`): no webhook goes to a link's own scope. */
function bare(ip: string): string | undefined {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  return address.includes('%') ? undefined : address;
}

/**
 * Whether `ip` (an IPv4 or IPv6 address, without brackets or zone) is one a webhook may be delivered to. IPv4: not
 * in loopback, private (RFC 1918), shared (RFC 6598), link-local, documentation, benchmarking, multicast, reserved
 * or the other special-purpose ranges. IPv6: global unicast (`2000::/3`) outside its special-purpose ranges
 * (documentation, Teredo and the other IETF assignments, 6to4 carrying a non-public IPv4 address), or an
 * IPv4-mapped, IPv4-translated or NAT64 form of a public IPv4 address; never IPv4-compatible, unique-local,
 * site-local, link-local or multicast. False for anything that is not an IP address, or that has a zone.
 */
export function isPublicAddress(ip: string): boolean {
  const address = bare(ip);
  if (address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  const carried = embeddedIpv4(address);
  if (carried !== undefined && (carried.form === 'compatible' || NOT_PUBLIC.check(carried.v4, 'ipv4'))) return false;
  if (carried?.form === 'translation') return !NOT_PUBLIC.check(address, 'ipv6');
  return GLOBAL_UNICAST.check(address, 'ipv6') && !NOT_PUBLIC.check(address, 'ipv6');
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
  const address = bare(ip);
  if (address === undefined)
    return isIP(ip) === 0 ? 'is not an IP address' : 'is a link-local or cloud metadata address';
  const family = isIP(address);
  if (family === 0) return 'is not an IP address';
  const v4 = family === 4 ? address : embeddedIpv4(address)?.v4;
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
