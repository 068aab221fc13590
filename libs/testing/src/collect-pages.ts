/** Every page of a paged query, following cursors (bounded, so a cursor loop fails instead of hanging). */
export async function collectPages<T>(
  fetch: (page: { limit: number; cursor?: string }) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit: number,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit, cursor });
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}
