import { request } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';

/** What a request over a fresh connection ended with: a response, or the connection's error code. */
export type FreshResult =
  { status: number; body: any; error?: undefined } | { status?: undefined; body?: undefined; error: string };

/**
 * One request on a new TCP connection of its own (no agent, `Connection: close`), sent with node:http (fetch would
 * join repeated header lines into one). With IAM_WORKERS above 1 the
 * cluster primary hands each new connection to the next worker in turn, so consecutive calls made one after
 * another land on alternate workers; a pooled client (fetch) would keep talking to one. `form` sends an
 * application/x-www-form-urlencoded body, `body` JSON; `timeoutMs` ends the exchange as `{ error: 'TIMEOUT' }`.
 * Never rejects: a dropped connection is `{ error }`.
 */
export function freshCall(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    form?: Record<string, string>;
    timeoutMs?: number;
    /** Sent after the others (an array value is sent as that many field lines, e.g. a repeated Authorization). */
    headers?: Record<string, string | string[]>;
  } = {},
): Promise<FreshResult> {
  const headers: Record<string, string | string[]> = { connection: 'close' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.form) {
    payload = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, options.headers);
  return new Promise((resolve) => {
    const req = request(new URL(path, baseUrl), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      // Cut off mid-body: 'close' without 'end' (the first resolve wins, so after 'end' this changes nothing).
      res.on('close', () => resolve({ error: res.complete ? 'CLOSED' : 'ECONNRESET' }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON: the text itself.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.on('close', () => resolve({ error: 'CLOSED' }));
    // A deadline for the whole exchange (not a measurement): a connection nobody serves ends as `TIMEOUT`.
    if (options.timeoutMs !== undefined) {
      const timer = setTimeout(() => {
        resolve({ error: 'TIMEOUT' });
        req.destroy();
      }, options.timeoutMs);
      req.on('close', () => clearTimeout(timer));
    }
    req.end(payload);
  });
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The ids of the live processes whose parent is `pid` (Linux: /proc), e.g. the workers a writer forked. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces, so parse after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/** Polls `check` every 50 ms until it holds; rejects with `what` after `timeoutMs` (a deadline, not a measurement). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
