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
  ['192.168.0.0', 16], // private (RFC 1918)
  ['198.18.0.0', 15], // benchmarking (RFC 2544)
  ['224.0.0.0', 4], // multicast (RFC 5771)
  ['240.0.0.0', 4], // reserved, and the limited broadcast address (RFC 1112, RFC 919)
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified (RFC 4291)
  ['::1', 128], // loopback (RFC 4291)
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation (RFC 8215)
  ['100::', 64], // discard-only (RFC 6666)
  ['fc00::', 7], // unique local (RFC 4193)
  ['fe80::', 10], // link-local (RFC 4291)
  ['ff00::', 8], // multicast (RFC 4291)
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address an IPv6 address embeds as IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 2.5.5.2), or undefined. */
function mappedIpv4(ip: string): string | undefined {
  const dotted = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return undefined;
  const [high, low] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * Whether `ip` (an IPv4 or IPv6 address, without brackets or zone) is one a webhook may be delivered to: false
 * for loopback, private (RFC 1918), shared (RFC 6598), link-local, unique-local (RFC 4193), unspecified,
 * multicast and reserved addresses, IPv4-mapped IPv6 forms of them included, and for anything that is not an
 * IP address at all.
 */
export function isPublicAddress(ip: string): boolean {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  const v4 = mappedIpv4(address);
  if (v4 !== undefined) return isIP(v4) === 4 && !NOT_PUBLIC.check(v4, 'ipv4');
  return !NOT_PUBLIC.check(address, 'ipv6');
}

/**
 * Why a webhook target URL is refused when it is written, or undefined when it is not: its host is `localhost`
 * (or a name under `.localhost`, RFC 6761) or an IP literal that `isPublicAddress` refuses. Host names are not
 * resolved here (the dispatcher checks what they resolve to at each delivery). `url` must parse as a URL.
 */
export function privateTargetProblem(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.')
    return 'names this host (localhost)';
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0 && !isPublicAddress(literal)) return 'is a private, loopback or link-local address';
  return undefined;
}
