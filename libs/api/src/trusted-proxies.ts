import { isIP } from 'node:net';

/** The names express's `trust proxy` (proxy-addr) knows for address ranges. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Reads `IAM_TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` names the client, in express's
 * `trust proxy` syntax restricted to lists: comma-separated IP addresses, CIDR blocks (`10.0.0.0/8`,
 * `fd00::/8`) and the names `loopback`, `linklocal`, `uniquelocal`. Unset or empty: no proxy is trusted and
 * the client is the socket's peer. Express walks `X-Forwarded-For` from the right and stops at the first
 * address that is not a trusted proxy, so a client cannot forge its way past the operator's proxies.
 * Throws on anything else (also `true` or hop counts, which would trust what any client writes).
 */
export function parseTrustedProxies(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    if (!isTrustedProxyEntry(value))
      throw new Error(
        `IAM_TRUSTED_PROXIES: "${value}" is not an IP address, a CIDR block or one of ${NAMED_RANGES.join(', ')}`,
      );
    return value;
  });
}

function isTrustedProxyEntry(value: string): boolean {
  if (NAMED_RANGES.includes(value)) return true;
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
