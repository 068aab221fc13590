import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';

/**
 * Owner-only modes for everything under a data directory (README, "What lives in IAM_DATA_DIR"): the event
 * log, the vault, the token store, the snapshot and the keys hold secrets or sealed personal data, so no
 * other account of the machine may read them. Modes are set explicitly rather than left to the umask, and
 * again on every open: a directory or file that already existed with a wider mode (an old version, a
 * restored backup, a `cp` without `-p`) is narrowed too.
 */
export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (with any missing parents) and sets mode 0700 on it, also when it already existed. */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  chmodSync(dir, PRIVATE_DIRECTORY_MODE);
}

/**
 * Creates `file` empty if absent and sets mode 0600 on it, also when it already existed. Call it before a
 * library (SQLite) creates the file with its own default mode (0644 under the usual umask).
 */
export function ensurePrivateFile(file: string): void {
  // openSync's mode is filtered by the umask and ignored for an existing file: chmod sets it either way.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Sets mode 0600 on each of `files` that exists; absent ones are skipped (ENOENT), other errors throw. */
export function restrictExistingFiles(files: readonly string[]): void {
  for (const file of files) {
    try {
      chmodSync(file, PRIVATE_FILE_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
