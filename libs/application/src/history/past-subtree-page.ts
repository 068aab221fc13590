/**
 * One level of a past tree, as an adapter of HistoryQueries reads it: the organizations whose parent at the position
 * is one of `parentIds`, each once, ordered by name key, then id (bytewise), as rows of the adapter's own shape.
 */
export interface PastLevelReader<Row> {
  /** The full rows of one level, in (name key, id) order. */
  rows(parentIds: readonly string[]): Promise<Row[]>;
  /** Only the ids of one level (a level the page starts below needs no more). */
  ids(parentIds: readonly string[]): Promise<string[]>;
  nameKey(row: Row): string;
  id(row: Row): string;
}

/** Where a page of a past subtree resumes: after (distance, name key, id); distance 0 for the first page. */
export interface PastSubtreeKeyset {
  d: number;
  k: string;
  i: string;
}

/**
 * The rows of a past subtree page (HistoryQueries.children): descendants of `rootId` down to `maxDepth` levels, in
 * (distance, name key, id) order, after the keyset, at most `limit` of them, each with its distance. Read level by
 * level, stopping once the page is full: the first page of a large subtree reads the few levels it shows, not the
 * subtree (the present reads a closure range; the past has no closure). Levels above the keyset's are read as ids only.
 */
export async function pastSubtreePage<Row>(
  reader: PastLevelReader<Row>,
  rootId: string,
  maxDepth: number,
  from: PastSubtreeKeyset,
  limit: number,
): Promise<Array<{ row: Row; distance: number }>> {
  const out: Array<{ row: Row; distance: number }> = [];
  let frontier: string[] = [rootId];
  for (let distance = 1; distance <= maxDepth && frontier.length > 0 && out.length < limit; distance++) {
    if (distance < from.d) {
      frontier = await reader.ids(frontier);
      continue;
    }
    const rows = await reader.rows(frontier);
    for (const row of rows) {
      if (out.length >= limit) break;
      // The stores order keys bytewise (UTF-8), which JavaScript's `<` (UTF-16 code units) does not always agree with.
      if (distance === from.d) {
        const byKey = Buffer.compare(Buffer.from(reader.nameKey(row)), Buffer.from(from.k));
        if (byKey < 0 || (byKey === 0 && Buffer.compare(Buffer.from(reader.id(row)), Buffer.from(from.i)) <= 0))
          continue;
      }
      out.push({ row, distance });
    }
    frontier = rows.map((row) => reader.id(row));
  }
  return out;
}
