// Helpers shared by the peer runners (bench/peers.mjs): the cache dir, running a setup command, starting a peer's
// server process and waiting for it, and reading a JWT's header. The peers are other projects' servers (Keycloak,
// Ory Hydra), fetched from package registries and built once into the cache.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../process-stats.mjs';

/** Where fetched and built peers live between runs: $ARBOR_PEERS_CACHE or ~/.cache/arbor-bench-peers. */
export function cacheDir() {
  return process.env.ARBOR_PEERS_CACHE || join(homedir(), '.cache', 'arbor-bench-peers');
}

/** How long the cached setup in `dir` took when it was made (its built.json), or null. */
export function firstSetup(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'built.json'), 'utf8')).setupSeconds ?? null;
  } catch {
    return null;
  }
}

/** Progress lines go to stderr, so stdout holds the report only. */
export const log = (...a) => console.error(`[peers ${new Date().toISOString().slice(11, 19)}]`, ...a);

/**
 * Runs a setup command (a download, a build) to completion, at low priority (nice 10: the machine is shared),
 * its output appended to `logFile`; throws with the log's tail when it fails, so a broken setup says why.
 */
export function run(cmd, args, { cwd, env = process.env, logFile }) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn('nice', ['-n', '10', cmd, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('error', reject);
    child.once('close', (code) => {
      out.end(() => {
        if (code === 0) return resolve();
        const tail = readFileSync(logFile, 'utf8').slice(-3000);
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}; see ${logFile}:\n${tail}`));
      });
    });
  });
}

/**
 * Starts a peer's server (`cmd args`) with its output in `logFile`, and waits until `readyUrl` answers 200.
 * Returns the pid (for the process-stats sampling of its tree), the seconds to ready, and `stop()`: SIGTERM, then
 * SIGKILL after 20 s. A peer that exits during its start throws with the log's tail.
 */
export async function startPeer({ cmd, args, env, cwd, logFile, readyUrl, timeoutMs = 5 * 60_000 }) {
  const out = createWriteStream(logFile);
  const t0 = Date.now();
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let exited = null;
  const exit = new Promise((r) => child.once('exit', (code, signal) => r((exited = { code, signal }))));
  const stop = async () => {
    if (exited) return exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const result = await exit;
    clearTimeout(t);
    return result;
  };
  for (;;) {
    if (exited) {
      await sleep(200); // lets the log stream flush
      throw new Error(
        `${cmd} exited during start (${JSON.stringify(exited)}); see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    }
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`${cmd} was not ready within ${timeoutMs / 1000} s; see ${logFile}`);
    }
    try {
      // A peer that accepts the connection but never answers must not hang the start past its own timeout.
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(250);
  }
  return { pid: child.pid, secondsToReady: (Date.now() - t0) / 1000, stop };
}

/** The decoded header of a compact JWT, or null when `token` is not one (an opaque token). */
export function jwtHeader(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/** JSON request to a peer's admin API; throws with the answer when the status is not the expected one. */
export async function api(url, { method = 'GET', token, body, expect = [200, 201, 204] }) {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!expect.includes(res.status)) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
