import { LRUCache } from 'lru-cache';

/**
 * A small LRU (lru-cache) of values read from data that carries a version (the read models' checkpoint): every entry
 * belongs to the version the cache holds, and asking with another version empties it. Correct as long as the
 * data changes only together with its version, in one transaction, as the read models keep their checkpoint:
 * a value stored under version v was read at v or later, and checkpoints only grow, so whoever still sees v
 * gets what a fresh read would give. (A rebuild restarts the checkpoint from 0 and replays the same log, so
 * the same checkpoint means the same data again.)
 *
 * Callers must treat values as immutable: they are shared by every reader until the data moves.
 */
export class VersionedCache<V extends NonNullable<unknown>> {
  private version: number | undefined;
  /** Undefined when `maxEntries` is 0 (lru-cache needs a positive `max`). */
  private readonly entries: LRUCache<string, V> | undefined;

  /** `maxEntries` 0 caches nothing. */
  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0)
      throw new Error(`VersionedCache: maxEntries must be a whole number >= 0, not ${maxEntries}`);
    this.entries = maxEntries === 0 ? undefined : new LRUCache<string, V>({ max: maxEntries });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  get(version: number, key: string): V | undefined {
    if (version !== this.version) {
      this.entries?.clear();
      this.version = version;
      return undefined;
    }
    return this.entries?.get(key);
  }

  /** Keeps `value`, read at `version` or later; ignored when the cache has moved to another version. */
  set(version: number, key: string, value: V): void {
    if (version === this.version) this.entries?.set(key, value);
  }
}

/** Freezes a plain JSON-like value all the way down, so a cached value cannot be changed by a reader. */
export const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};
