import type { TestApp } from './test-app';

/** Everything the read side answers about a set of organizations, for before/after comparisons. */
export async function snapshot(app: TestApp, ids: string[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  const list = [];
  let cursor: string | null = null;
  do {
    const res: any = await app.call('GET', `/api/v1/orgs?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    list.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  out.list = list;
  out.users = (await app.call('GET', '/api/v1/users?limit=200')).body;
  for (const id of ids) {
    out[`get ${id}`] = (await app.call('GET', `/api/v1/orgs/${id}`)).body;
    out[`children ${id}`] = (await app.call('GET', `/api/v1/orgs/${id}/children?depth=all&limit=200`)).body;
    out[`parents ${id}`] = (await app.call('GET', `/api/v1/orgs/${id}/parents`)).body;
  }
  return out;
}

