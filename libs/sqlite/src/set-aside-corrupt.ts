import { existsSync, renameSync } from 'node:fs';

/** The files SQLite keeps for one database: all of them hold its pages, so they move together. */
const DATABASE_FILES = ['', '-wal', '-shm', '-journal'];

/**
 * True for the errors by which SQLite says a file is not a (sound) database: SQLITE_NOTADB (not a database
 * at all, e.g. a truncated or overwritten header) and SQLITE_CORRUPT with its extended codes (a damaged
 * page, index or schema). Other failures (busy, full, permissions) say nothing about the file's content.
 */
export function isCorruptDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_'))
  );
}

/**
 * Renames `file` and its -wal, -shm and -journal files aside to `<file>.corrupt-<UTC timestamp><suffix>`
 * (e.g. `read-models.sqlite.corrupt-20261130T174200123Z-wal`), kept for a post-mortem, and returns that base
 * name. Only for files whose content is derived and can be made again: the caller rebuilds them.
 */
export function setAsideCorruptDatabase(file: string, now: Date = new Date()): string {
  const aside = `${file}.corrupt-${now.toISOString().replace(/[-:.]/g, '')}`;
  for (const suffix of DATABASE_FILES) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  return aside;
}
