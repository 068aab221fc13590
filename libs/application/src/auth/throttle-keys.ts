import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { SecretVault } from '../ports/secret-vault';

/** The vault key under which counter keys are hashed. */
export const THROTTLE_KEY_ID = 'system:throttle-key';

/**
 * The source a login attempt is counted against, from the address express reports (`req.ip`: the socket's
 * peer, or the client named by `X-Forwarded-For` when the operator trusts the proxy). Proxies write the
 * client in several forms, all normalised here: `192.0.2.1`, `192.0.2.1:4321` (Azure Application Gateway
 * adds the port), `2001:db8::1`, `[2001:db8::1]:4321` (RFC 7239 §6 style), `[2001:db8::1]`, zone ids
 * (`fe80::1%eth0`), IPv4-mapped IPv6 in either notation (`::ffff:192.0.2.1`, `::ffff:c000:201`: counted as
 * the IPv4 address). IPv4 addresses count one by one; IPv6 addresses count by their /64 prefix, the smallest
 * block a single subscriber is usually given (RFC 6177), so rotating through one's own /64 does not multiply
 * the allowance. A value that is still no address is its own source (`literal:<text>`), so that such values
 * never merge distinct clients into one bucket; only a missing address (the socket already closed) is
 * `unknown`. Returns e.g. `192.0.2.1`, `2001:db8:0:0::/64`, `literal:garbage`.
 */
export function throttleSource(address: string | undefined): string {
  if (address === undefined || address.trim() === '') return 'unknown';
  const text = address.trim();
  // `[address]` or `[address]:port`, `a.b.c.d:port` (a port is 0-65535); anything else is read as it stands.
  const form = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(text);
  const bare = (form && Number(form[2] ?? 0) <= 65535 ? form[1] : text).replace(/%.*$/, '');
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return `literal:${text}`;
  const groups = expandIPv6(bare);
  // IPv4-mapped (RFC 4291 §2.5.5.2): ::ffff:a.b.c.d, however written, is the IPv4 client.
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6], 16), parseInt(groups[7], 16)];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * The block whose sources are judged together when they ask the account's gate for admission as sources that
 * never failed (see LoginThrottle): an IPv6 source's /48 (a site's usual allocation, RFC 6177), so that one
 * /48 cannot pose as 65,536 fresh sources; any other source is its own block. Takes a throttleSource value.
 */
export function admissionBlock(source: string): string {
  const v6 = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):[0-9a-f]+::\/64$/.exec(source);
  return v6 ? `${v6[1]}:${v6[2]}:${v6[3]}::/48` : source;
}

/** The eight 16-bit groups of a valid IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  // A trailing dotted quad (e.g. ::1.2.3.4) holds the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** The counters and marks one attempt may touch (see LoginThrottle); each key an opaque, keyed hash. */
export interface ThrottleKeySet {
  /** Failures of this subject from this source. */
  pair: string;
  /** Failures from this source, over every subject. */
  source: string;
  /** Failures of this subject, from every source. */
  subject: string;
  /**
   * Taken by the one attempt per delay allowed once the subject's failures pass the limit, from sources that
   * have failed on this subject before.
   */
  gate: string;
  /** The same gate for sources with no failure on this subject: guessers cannot hold it against the owner. */
  cleanGate: string;
  /**
   * Failures of this subject, at the gate, from this source's admission block (admissionBlock): a block with
   * one is no longer admitted as a source that never failed.
   */
  admission: string;
  /**
   * Present while this source is known to this subject: it logged in successfully within the policy's
   * `knownSource` window. Known sources never queue at the gate.
   */
  known: string;
}

/**
 * Counter keys as HMAC-SHA-256 (base64url) under a vault key, so the shared store never holds an email, a
 * client id or an address in the clear, and nobody without the vault can test a guess against it. The kind
 * prefix (`p:`, `s:`, `a:`, `g:`, `c:`, `w:`, `k:`) tells the counters apart; the fields are joined with a newline, which
 * neither an email key, a client id nor an address contains.
 */
export class ThrottleKeys {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly vault: SecretVault) {}

  /** Keys for `subject` (e.g. `account:<email key>`, `client:<client id>`) and `source` (see throttleSource). */
  async of(subject: string, source: string): Promise<ThrottleKeySet> {
    const key = await this.hmacKey();
    const mac = (text: string) => createHmac('sha256', key).update(text, 'utf8').digest('base64url');
    const subjectMac = mac(`subject\n${subject}`);
    return {
      pair: `p:${mac(`pair\n${subject}\n${source}`)}`,
      source: `s:${mac(`source\n${source}`)}`,
      subject: `a:${subjectMac}`,
      gate: `g:${subjectMac}`,
      cleanGate: `c:${subjectMac}`,
      admission: `w:${mac(`admission\n${subject}\n${admissionBlock(source)}`)}`,
      known: `k:${mac(`known\n${subject}\n${source}`)}`,
    };
  }

  private hmacKey(): Promise<Buffer> {
    // A failed read is not cached: the next attempt asks the vault again.
    this.key ??= this.vault.ensureDataKey(THROTTLE_KEY_ID, randomBytes(32)).catch((e: unknown) => {
      this.key = undefined;
      throw e;
    });
    return this.key;
  }
}
