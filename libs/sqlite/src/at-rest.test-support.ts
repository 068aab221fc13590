import fs from 'node:fs';
import path from 'node:path';

/**
 * The names of the files in `dir` (only those whose name starts with `prefix`, when given) whose bytes contain
 * `marker` anywhere: the database, its WAL and its shared-memory index alike. The at-rest tests' check that a
 * deletion left no copy behind (secure_delete for the pages, WalTruncation for the WAL's older frames).
 */
export function filesHolding(dir: string, marker: string | Buffer, prefix = ''): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.startsWith(prefix))
    .filter((name) => fs.readFileSync(path.join(dir, name)).includes(marker));
}
