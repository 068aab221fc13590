// What the bench reads about a process from /proc (Linux): CPU seconds, RSS and its peak.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return NaN;
  }
}

export function memoryKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: get('VmRSS'), hwm: get('VmHWM'), anon: get('RssAnon'), file: get('RssFile') + get('RssShmem') };
  } catch {
    return { rss: NaN, hwm: NaN, anon: NaN, file: NaN };
  }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0), so each workload gets its own peak. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples a process's RSS while a measurement runs. */
export function rssSampler(pid, everyMs = 200) {
  let peak = 0;
  let peakAnon = 0;
  const sample = () => {
    const { rss, hwm, anon } = memoryKb(pid);
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
