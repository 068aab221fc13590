import { readdirSync, readlinkSync } from 'node:fs';

/**
 * The files under `dir` this process holds open (Linux: the targets of /proc/self/fd), SQLite's connections
 * included: what a closed or failed start must have given back.
 */
export const openFilesUnder = (dir: string): string[] =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // closed meanwhile (the fd of the readdir itself)
      }
    })
    .filter((target) => target.startsWith(`${dir}/`));
