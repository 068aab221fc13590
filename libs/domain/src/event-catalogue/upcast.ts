/** What upcasting needs of a catalogue entry (see `EventTypeEntry`). */
export interface UpcastEntry {
  version: number;
  upcasters?: Readonly<Record<number, (data: unknown) => unknown>>;
}

/**
 * An event whose `data` was stored at schema version `storedVersion`, with its `data` at the entry's current
 * version: each upcaster from `storedVersion` up to `version - 1` applied in turn. An event already current
 * (every stored event today) is returned as is, the same object, so reads pay one lookup. Types the
 * catalogue does not know pass unchanged (old logs may hold them; the models ignore them).
 *
 * Throws when the chain has a gap (a catalogue defect) or the event is newer than this code knows: misreading
 * it would be worse than stopping.
 */
export function upcastEvent<E extends { type: string; data: unknown }>(
  catalogue: Readonly<Record<string, UpcastEntry>>,
  event: E,
  storedVersion: number,
): E {
  const entry = Object.prototype.hasOwnProperty.call(catalogue, event.type) ? catalogue[event.type] : undefined;
  if (!entry || storedVersion === entry.version) return event;
  if (!Number.isSafeInteger(storedVersion) || storedVersion > entry.version) {
    throw new Error(
      `${event.type} stored at schema version ${storedVersion}: this code knows up to version ${entry.version}.`,
    );
  }
  let data = event.data;
  for (let v = storedVersion; v < entry.version; v++) {
    const upcaster = entry.upcasters?.[v];
    if (!upcaster) throw new Error(`${event.type}: no upcaster from schema version ${v} to ${v + 1}.`);
    data = upcaster(data);
  }
  return { ...event, data };
}
