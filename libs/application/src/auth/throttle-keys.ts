import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { SecretVault } from '../ports/secret-vault';

/** The vault key under which counter keys are hashed. */
export const THROTTLE_KEY_ID = 'system:throttle-key';

/**
 * The source a login attempt is counted against, from the address express reports (`req.ip`: the socket's
 * peer, or the client named by `X-Forwarded-For` when the operator trusts the proxy). IPv4 addresses count
 * one by one (an IPv4-mapped IPv6 address is its IPv4 address); IPv6 addresses count by their /64 prefix,
 * the smallest block a single subscriber is usually given (RFC 6177), so rotating through one's own /64
 * does not multiply the allowance. Anything else (no address: the socket already closed) is one source.
 */
export function throttleSource(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(address)) return address;
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return 'unknown';
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
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
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** The four counters one attempt touches (see LoginThrottle); each an opaque, keyed hash. */
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
}

/**
 * Counter keys as HMAC-SHA-256 (base64url) under a vault key, so the shared store never holds an email, a
 * client id or an address in the clear, and nobody without the vault can test a guess against it. The kind
 * prefix (`p:`, `s:`, `a:`, `g:`, `c:`) tells the counters apart; the fields are joined with a newline, which
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
    return { pair: `p:${mac(`pair\n${subject}\n${source}`)}`, source: `s:${mac(`source\n${source}`)}`, subject: `a:${subjectMac}`, gate: `g:${subjectMac}`, cleanGate: `c:${subjectMac}` };
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
