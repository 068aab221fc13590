// An open-loop load at a fixed rate: one request every 1/rate seconds, evenly spaced, whatever the answers do.
// autocannon's `overallRate` is no fixed rate: each connection sends its share of a second back to back at the start
// of each second, so "500/s over 50 connections" arrives as bursts of 500 and measures the queue of a burst. Here a
// request's latency runs from the moment it was due (not from when it could be sent), so a stalled server is
// charged for every request it delayed (no coordinated omission).
import http from 'node:http';

const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Sends `req` (autocannon's request shape: method, path, headers, body, setupRequest) to `url` at `rate` requests/s
 * for `duration` seconds over at most `connections` kept-alive connections; resolves with an autocannon-like result
 * (the fields bench/lib/load.mjs's summarize reads), latencies in ms.
 */
export async function runPaced(url, req, { rate, duration, connections }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const base = new URL(url);
  const intervalMs = 1000 / rate;
  const latencies = [];
  const counts = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  const statusCodeStats = {};
  let errors = 0;
  const pending = new Set();
  const start = performance.now();
  const total = Math.floor(rate * duration);
  const send = (due) => {
    const r = req.setupRequest ? req.setupRequest({ ...req, headers: { ...req.headers } }) : req;
    const done = new Promise((resolve) => {
      const q = http.request(
        { host: base.hostname, port: base.port, path: r.path, method: r.method ?? 'GET', headers: r.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            const code = res.statusCode ?? 0;
            counts[`${Math.floor(code / 100)}xx`]++;
            (statusCodeStats[code] ??= { count: 0 }).count++;
            resolve();
          });
        },
      );
      q.on('error', () => {
        errors++;
        resolve();
      });
      q.end(r.body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && start + sent * intervalMs <= now) send(start + sent++ * intervalMs);
    const next = start + sent * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  return {
    ...counts,
    statusCodeStats,
    errors,
    timeouts: 0,
    latency: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? NaN),
      average: round(latencies.reduce((s, x) => s + x, 0) / (latencies.length || 1)),
    },
  };
}
