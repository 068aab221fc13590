import { isIP } from 'node:net';

/** The variables that name a service a process connects to at start, and how each names its host(s) and port. */
const SERVICE_VARIABLES: Record<string, { defaultPort: number; hosts: (raw: string) => string[] }> = {
  DATABASE_URL: { defaultPort: 5432, hosts: (raw) => urlHosts(raw) },
  READ_MODELS_URL: { defaultPort: 27017, hosts: (raw) => urlHosts(raw) },
  KAFKA_BROKERS: { defaultPort: 9092, hosts: (raw) => raw.split(',').map((b) => b.trim()) },
  COMMAND_SERVICE_URL: { defaultPort: 80, hosts: (raw) => urlHosts(raw) },
};

/** Network errors that mean "nothing answered there" (Node's net and dns errors carry `address`/`hostname`, `port`). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The `host[:port]` entries of a URL's authority (several for a MongoDB seed list), without user information. */
function urlHosts(raw: string): string[] {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#]*@)?([^/?#]*)/i.exec(raw)?.[1];
  return authority ? authority.split(',') : [];
}

/** `host[:port]` (or `[v6]:port`) as host and port, `defaultPort` when it names none. */
function hostPort(entry: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1].toLowerCase(), port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const colon = entry.lastIndexOf(':');
  if (colon < 0 || entry.indexOf(':') !== colon) return { host: entry.toLowerCase(), port: defaultPort };
  return { host: entry.slice(0, colon).toLowerCase(), port: Number(entry.slice(colon + 1)) || defaultPort };
}

const sameHost = (a: string, b: string): boolean => a === b || (LOOPBACK.has(a) && LOOPBACK.has(b));

/**
 * For a start that failed because a service did not answer (`connect ECONNREFUSED 127.0.0.1:1`, which names no
 * service): which of DATABASE_URL, READ_MODELS_URL, KAFKA_BROKERS and COMMAND_SERVICE_URL in `env` names that host
 * and port, as a sentence to append (`nothing answers at 127.0.0.1:1, which DATABASE_URL names`), or else whose
 * host name (not an address) names that port (`..., the port DATABASE_URL names; its host name may resolve there`);
 * '' when the error is not a network one or no variable names that address or port. Never quotes a variable's value (it may hold a
 * password).
 */
export function unreachableServiceHint(error: unknown, env: NodeJS.ProcessEnv): string {
  const e = error as { code?: unknown; address?: unknown; hostname?: unknown; port?: unknown };
  if (typeof e?.code !== 'string' || !UNREACHABLE.has(e.code)) return '';
  const host = typeof e.address === 'string' ? e.address : typeof e.hostname === 'string' ? e.hostname : undefined;
  if (host === undefined) return '';
  const port = typeof e.port === 'number' ? e.port : undefined;
  const naming = Object.entries(SERVICE_VARIABLES).filter(([name, { defaultPort, hosts }]) => {
    const raw = env[name];
    if (!raw) return false;
    return hosts(raw).some((entry) => {
      const named = hostPort(entry, defaultPort);
      return sameHost(named.host, host.toLowerCase()) && (port === undefined || named.port === port);
    });
  });
  const where = port === undefined ? host : `${host}:${port}`;
  const names = (found: Array<[string, unknown]>) => found.map(([name]) => name).join(' and ');
  if (naming.length > 0)
    return `nothing answers at ${where}, which ${names(naming)} name${naming.length > 1 ? '' : 's'}`;
  // The error names the address a host name resolved to (`db.internal` → 10.0.0.5): the port may still tell which.
  if (port === undefined) return '';
  const byPort = Object.entries(SERVICE_VARIABLES).filter(([name, { defaultPort, hosts }]) => {
    const raw = env[name];
    return (
      !!raw &&
      hosts(raw).some((entry) => {
        const named = hostPort(entry, defaultPort);
        return isIP(named.host) === 0 && !LOOPBACK.has(named.host) && named.port === port;
      })
    );
  });
  if (byPort.length === 0) return '';
  return `nothing answers at ${where}, the port ${names(byPort)} name${byPort.length > 1 ? '' : 's'}; its host name may resolve there`;
}
