/**
 * A small LRU of values read from data that carries a version (the read models' checkpoint): every entry
 * belongs to the version the cache holds, and asking with another version empties it. Correct as long as the
 * data changes only together with its version, in one transaction, as the read models keep their checkpoint:
 * a value stored under version v was read at v or later, and checkpoints only grow, so whoever still sees v
 * gets what a fresh read would give. (A rebuild restarts the checkpoint from 0 and replays the same log, so
 * the same checkpoint means the same data again.)
 *
 * Callers must treat values as immutable: they are shared by every reader until the data moves.
 */
export class VersionedCache<V> {
  private version: number | undefined;
  /** In use order, least recently used first. */
  private readonly entries = new Map<string, V>();

  /** `maxEntries` 0 caches nothing. */
  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new Error(`VersionedCache: maxEntries must be a whole number >= 0, not ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(version: number, key: string): V | undefined {
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
      return undefined;
    }
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Keeps `value`, read at `version` or later; ignored when the cache has moved to another version. */
  set(version: number, key: string, value: V): void {
    if (this.maxEntries === 0 || version !== this.version) return;
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, value);
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
