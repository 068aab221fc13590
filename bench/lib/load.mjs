// HTTP helpers and the measuring loop: autocannon in this process, the server in another.
import { createRequire } from 'node:module';
import os from 'node:os';
import { runPaced } from './paced.mjs';
import { cpuSeconds, memoryKb, mb, ownCpuSeconds, resetPeak, rssSampler } from './process-stats.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

export async function post(url, path, body, headers = {}) {
  const isForm = typeof body === 'string';
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': isForm ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: isForm ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export const form = (o) => new URLSearchParams(o).toString();
export const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function passwordToken(url, user) {
  const r = await post(
    url,
    '/api/v1/auth/tokens',
    form({ grant_type: 'password', username: user.email, password: user.password }),
  );
  if (r.status !== 200) throw new Error(`password grant for ${user.email} failed: ${r.status} ${r.text}`);
  return r.json.access_token;
}

export async function clientToken(url, c) {
  const r = await post(url, '/api/v1/auth/tokens', 'grant_type=client_credentials', {
    authorization: basic(c.clientId, c.secret),
  });
  if (r.status !== 200) throw new Error(`client_credentials for ${c.clientId} failed: ${r.status} ${r.text}`);
  return r.json.access_token;
}

/** One request of a workload, made before the load, so a broken workload is reported as such. */
export async function probe(url, req) {
  const r = req.setupRequest ? req.setupRequest({ ...req, headers: { ...req.headers } }) : req;
  const res = await fetch(url + r.path, { method: r.method ?? 'GET', headers: r.headers, body: r.body });
  const text = await res.text();
  return { status: res.status, body: text.slice(0, 300) };
}

export const rand = (arr) => arr[Math.floor(Math.random() * arr.length)];

/**
 * `rate`: requests per second over all connections (autocannon's overallRate: bursts at the start of each second),
 * or as fast as they come back; `paced`: `rate` evenly spaced instead (bench/lib/paced.mjs, an open-loop load).
 */
export function runCannon(url, req, connections, duration, rate, paced = false) {
  if (paced) return runPaced(url, req, { rate, duration, connections });
  return autocannon({
    url,
    connections,
    duration,
    timeout: 20,
    requests: [req],
    ...(rate === undefined ? {} : { overallRate: rate }),
  });
}

export function summarize(r, seconds) {
  const byStatus = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) if (!code.startsWith('2')) byStatus[code] = v.count;
  const ok = r['2xx'];
  const total = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return {
    okPerSecond: Math.round(ok / seconds),
    requestsPerSecond: Math.round(total / seconds),
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: r.latency.average,
    },
    ok,
    total,
    non2xx: byStatus,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: Math.round(seconds * 100) / 100,
  };
}

/**
 * Runs the given loads at the same time (the first one is the workload, the others ride along), after a warm-up
 * that is not counted, and measures the server's CPU and memory over the measured window.
 */
export async function measure(server, loads, opts) {
  await Promise.all(
    loads
      .filter((l) => l.warmup !== false)
      .map((l) => runCannon(server.url, l.req, l.connections, opts.warmup, l.rate, l.paced)),
  );
  const peakReset = resetPeak(server.pid);
  const cpu0 = cpuSeconds(server.pid);
  const own0 = ownCpuSeconds(server.pid);
  const self0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const sampler = rssSampler(server.pid);
  const results = await Promise.all(
    loads.map((l) => runCannon(server.url, l.req, l.connections, opts.duration, l.rate, l.paced)),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(server.pid);
  const own1 = ownCpuSeconds(server.pid);
  const self1 = process.cpuUsage(self0);
  const sampledPeak = sampler.stop();
  const { hwm } = memoryKb(server.pid);
  const server_ = {
    cpuPercent: Math.round(((cpu1 - cpu0) / seconds) * 1000) / 10,
    // The server's own process: with HTTP workers, the writer alone (the one process writes cannot spread over).
    ownCpuPercent: Math.round(((own1 - own0) / seconds) * 1000) / 10,
    // With the reset, VmHWM is this window's peak; without it (older kernels), only the samples count.
    peakRssMb: mb(peakReset ? Math.max(hwm, sampledPeak) : sampledPeak),
    peakRssAnonSampledMb: mb(sampler.peakAnon),
    peakPssSampledMb: mb(sampler.peakPss),
    // The load generator shares the machine: near 100% here means autocannon, not the server, was the limit.
    loadGeneratorCpuPercent: Math.round(((self1.user + self1.system) / 1e6 / seconds) * 1000) / 10,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
  return results.map((r, i) => ({ ...summarize(r, seconds), connections: loads[i].connections, server: server_ }));
}
