// Starts a built app (apps/*/dist/main.js) as a child process and waits until it answers its readiness URL.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, memoryKb, mb, rssSampler, sleep } from './process-stats.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `main` is relative to the repository root; `nodeArgs` go to node itself (e.g. `--cpu-prof`); output goes to `<logDir>/<label>.log`. Without `readyUrl` the
 * process counts as started once spawned (a projector has no HTTP port). The result's `startSeconds` and RSS
 * figures describe the start; `stop()` sends SIGTERM, then SIGKILL after 10 s.
 */
export async function startService({
  main,
  args = [],
  nodeArgs = [],
  env,
  label,
  logDir,
  readyUrl,
  timeoutMs = 30 * 60_000,
}) {
  const logFile = join(logDir, `${label}.log`);
  const out = createWriteStream(logFile);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, main), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const sampler = rssSampler(child.pid, 100);
  const deadline = Date.now() + timeoutMs;
  while (readyUrl) {
    if (exited) {
      sampler.stop();
      await sleep(100); // lets the log stream flush
      throw new Error(
        `${label} exited during start (${JSON.stringify(exited)}); see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`${label} did not become ready within ${timeoutMs / 1000} s`);
    try {
      const res = await fetch(readyUrl);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(20);
  }
  const startSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const startPeakKb = sampler.stop();
  const mem = memoryKb(child.pid);
  return {
    pid: child.pid,
    child,
    logFile,
    startSeconds,
    startPeakRssMb: mb(Math.max(startPeakKb, mem.hwm)),
    readyRssMb: mb(mem.rss),
    readyRssAnonMb: mb(mem.anon),
    /** The processes' proportional set sizes summed: shared pages counted once (process-stats.memoryKb). */
    readyPssMb: mb(mem.pss),
    /** How many processes the figures add up (the writer and its HTTP workers). */
    processes: mem.processes,
    cpuAtReady: cpuSeconds(child.pid),
    get exited() {
      return exited;
    },
    async stop() {
      if (exited) return exited;
      const done = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await done;
      clearTimeout(t);
      return result;
    },
  };
}
