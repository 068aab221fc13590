import { createOrg, type TestApp } from './test-app';

/** Everything the read side answers about a set of organizations, for before/after comparisons. */
export async function snapshot(app: TestApp, ids: string[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  const list = [];
  let cursor: string | null = null;
  do {
    const res: any = await app.call(
      'GET',
      `/api/v1/orgs?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
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

/** A small tree that has seen every kind of organization change: creates, an update, a move, a delete. */
export async function seedTree(app: TestApp): Promise<string[]> {
  const root = await createOrg(app, 'Durable', null, { metadata: { plan: 'pro' } });
  const a = await createOrg(app, 'A', root.id);
  const b = await createOrg(app, 'B', root.id, { description: 'bee' });
  const a1 = await createOrg(app, 'A1', a.id);
  const doomed = await createOrg(app, 'Doomed', b.id);
  await app.call('PUT', `/api/v1/orgs/${a1.id}`, { body: { name: 'A1 renamed', parentId: b.id } });
  await app.call('DELETE', `/api/v1/orgs/${doomed.id}`);
  return [root.id, a.id, b.id, a1.id];
}
