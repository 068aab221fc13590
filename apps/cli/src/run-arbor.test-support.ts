import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The built CLI (apps/cli/dist/main.js): specs run it as an operator would, in a process of its own. */
export const ARBOR_MAIN = resolve(__dirname, '../../../apps/cli/dist/main.js');

/** What a finished `arbor` run left: its exit code and everything it wrote. */
export interface ArborRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `arbor <args>` with only PATH and `env` in its environment (so nothing of the test process leaks in, e.g.
 * DATABASE_URL) and resolves once it has exited.
 */
export function runArbor(args: string[], env: Record<string, string>): Promise<ArborRun> {
  const child = spawn(process.execPath, [ARBOR_MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((r) => child.once('exit', (code) => r({ code, stdout, stderr })));
}
