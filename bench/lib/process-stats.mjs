// What the bench reads about a process from /proc (Linux): CPU seconds, RSS and its peak. Every figure covers the
// process and its descendants (the embedded server's HTTP workers with IAM_WORKERS above 1): CPU and RSS are summed;
// the peak is the sum of each process's own peak (at least the peak of the sum, so never flattering).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** `pid` and every live descendant of it, `pid` first. */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** CPU seconds of `pid` alone (the embedded writer without its HTTP workers). */
export function ownCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return NaN;
  }
}

/** CPU seconds of `pid` and its descendants (a descendant that ended meanwhile takes its seconds with it). */
export function cpuSeconds(pid) {
  const each = processTree(pid)
    .map(ownCpuSeconds)
    .filter((s) => Number.isFinite(s));
  return each.length === 0 ? NaN : each.reduce((sum, s) => sum + s, 0);
}

/** PSS: each shared page counted once across the processes sharing it (Linux >= 4.14); NaN where unreadable. */
function ownPssKb(pid) {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function ownMemoryKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return {
      rss: get('VmRSS'),
      hwm: get('VmHWM'),
      anon: get('RssAnon'),
      file: get('RssFile') + get('RssShmem'),
      pss: ownPssKb(pid),
    };
  } catch {
    return { rss: NaN, hwm: NaN, anon: NaN, file: NaN, pss: NaN };
  }
}

/**
 * Memory of `pid` and its descendants, summed, in kB; `processes` says how many were counted. The RSS sum counts
 * pages the processes share (the node binary, SQLite's mapped files) once per process; `pss` (the sum of
 * proportional set sizes) counts them once in all: what the processes take together.
 */
export function memoryKb(pid) {
  const all = processTree(pid)
    .map(ownMemoryKb)
    .filter((m) => Number.isFinite(m.rss));
  if (all.length === 0) return { rss: NaN, hwm: NaN, anon: NaN, file: NaN, pss: NaN, processes: 0 };
  const sum = (k) => all.reduce((s, m) => s + m[k], 0);
  return {
    rss: sum('rss'),
    hwm: sum('hwm'),
    anon: sum('anon'),
    file: sum('file'),
    pss: sum('pss'),
    processes: all.length,
  };
}

/** Resets VmHWM to the current RSS (Linux >= 4.0) in `pid` and its descendants, so each workload gets its own peak. */
export function resetPeak(pid) {
  try {
    for (const p of processTree(pid)) writeFileSync(`/proc/${p}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples a process's RSS while a measurement runs. */
export function rssSampler(pid, everyMs = 200) {
  let peak = 0;
  let peakAnon = 0;
  let peakPss = 0;
  const sample = () => {
    const { rss, hwm, anon, pss } = memoryKb(pid);
    if (Number.isFinite(pss)) peakPss = Math.max(peakPss, pss);
    peak = Math.max(peak, Number.isFinite(rss) ? rss : 0, Number.isFinite(hwm) ? hwm : 0);
    if (Number.isFinite(anon)) peakAnon = Math.max(peakAnon, anon);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    /** Stops sampling; the peak RSS in kB (VmHWM included, so spikes between samples count too). */
    stop() {
      sample();
      clearInterval(timer);
      return peak;
    },
    /** The highest anonymous RSS (heap, SQLite caches; not mapped files) seen by a sample, in kB. */
    get peakAnon() {
      return peakAnon;
    },
    /** The highest PSS sum seen by a sample, in kB: the processes' memory together (see memoryKb). */
    get peakPss() {
      return peakPss;
    },
  };
}

export const mb = (kb) => (Number.isFinite(kb) ? Math.round((kb / 1024) * 10) / 10 : null);

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
