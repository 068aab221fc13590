// Times `apps/projector --rebuild` on a data directory: read models dropped and replayed from the event log.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds, mb, rssSampler } from './process-stats.mjs';
import { ROOT } from './service-process.mjs';

export async function rebuild(dir) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(ROOT, 'apps/projector/dist/main.js'), '--rebuild'], {
    cwd: ROOT,
    // Without DATABASE_URL: the projector would otherwise rebuild the distributed profile's read models.
    env: { ...withoutDistributedEnv(process.env), IAM_DATA_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = rssSampler(child.pid, 100);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const cpuAtEnd = { v: NaN };
  const timer = setInterval(() => {
    const c = cpuSeconds(child.pid);
    if (Number.isFinite(c)) cpuAtEnd.v = c;
  }, 100);
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  const peak = sampler.stop();
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`projector --rebuild exited with ${code}: ${stderr.slice(-2000)}`);
  let final;
  for (const line of stdout.split('\n').concat(stderr.split('\n'))) {
    try {
      const j = JSON.parse(line);
      if (j && j.eventsPerSecond !== undefined) final = j;
    } catch {
      /* not JSON */
    }
  }
  if (!final) throw new Error(`projector --rebuild printed no eventsPerSecond:\n${stdout.slice(-2000)}`);
  return {
    eventsPerSecond: final.eventsPerSecond,
    events: final.events,
    seconds: final.seconds,
    processWallSeconds: Math.round(wall * 100) / 100,
    peakRssMb: mb(peak),
    cpuSeconds: cpuAtEnd.v,
  };
}

function withoutDistributedEnv(env) {
  const { DATABASE_URL, KAFKA_BROKERS, ...rest } = env;
  return rest;
}
