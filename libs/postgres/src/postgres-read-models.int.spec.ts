import type { ProjectableEvent } from '@arbor/application';
import { collectOrgIds, describeWithEnv, Log, ORG_TREE, orgIds as ids, orgReadModelsConformance } from '@arbor/testing';
import { openPostgresReadModels, type PostgresReadModels } from './postgres-read-models';
import { DATABASE_URL, dropSchema, randomSchema, schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresReadModels (conformance)', () => {
  orgReadModelsConformance(schemaReadModels('rm_orgs_conf'));
});

maybe('PostgresReadModels', () => {
  const schema = randomSchema('rm_orgs');
  let rm: PostgresReadModels;
  let log: Log;
  let batch: ProjectableEvent[];

  beforeAll(async () => {
    rm = await openPostgresReadModels(DATABASE_URL, { schema, poolSize: 4 });
  });
  beforeEach(async () => {
    await rm.reset();
    log = new Log();
    batch = ORG_TREE.map(([id, name, parent]) => log.created(id, name, parent));
    expect(await rm.apply(batch)).toBe(10);
  });
  afterAll(async () => {
    await rm?.close();
    await dropSchema(schema);
  });

  const children = async (id: string, depth: number | null) =>
    ids((await rm.orgs.children(id, depth, { limit: 100 })).items);

  it('orders names bytewise (COLLATE "C"), as SQLite does', async () => {
    // Code point order: '_' (U+005F) < 'a' < 'z' < 'é' (U+00E9); a linguistic collation would put 'é' next to 'e'.
    await rm.apply([
      log.created('x1', 'é', 'o'),
      log.created('x2', 'z', 'o'),
      log.created('x3', '_a', 'o'),
      log.created('x4', 'e', 'o'),
    ]);
    expect(await children('o', 1)).toEqual(['x3', 'x4', 'x2', 'x1']);
    expect((await collectOrgIds((p) => rm.orgs.children('o', 1, p), 1)).flat()).toEqual(['x3', 'x4', 'x2', 'x1']);
  });

  it('uses the same cursor encoding as the SQLite adapter', async () => {
    const page = await rm.orgs.children('r', null, { limit: 2 });
    expect(JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString('utf8'))).toEqual({
      d: 1,
      k: 'beta',
      i: 'b',
    });
    const list = await rm.orgs.list({}, { limit: 2 });
    expect(JSON.parse(Buffer.from(list.nextCursor!, 'base64url').toString('utf8'))).toEqual({ i: 'ag' });
  });

  it('creates its schema idempotently, also when several processes open it at once', async () => {
    const opened = await Promise.all(
      [1, 2, 3].map(() => openPostgresReadModels(DATABASE_URL, { schema, poolSize: 1 })),
    );
    try {
      for (const other of opened) expect(await other.checkpoint()).toBe(10);
      expect(ids((await opened[0].orgs.children('r', 1, { limit: 10 })).items)).toEqual(['a', 'b', 'c']);
    } finally {
      await Promise.all(opened.map((other) => other.close()));
    }
    const fresh = randomSchema('rm_fresh');
    try {
      const created = await Promise.all(
        [1, 2].map(() => openPostgresReadModels(DATABASE_URL, { schema: fresh, poolSize: 1 })),
      );
      expect(await created[0].checkpoint()).toBe(0);
      await Promise.all(created.map((other) => other.close()));
    } finally {
      await dropSchema(fresh);
    }
    await expect(openPostgresReadModels(DATABASE_URL, { schema: 'Bad-Name' })).rejects.toThrow(
      'Invalid read-model schema name',
    );
  });

  it('propagates errors when PostgreSQL is unreachable', async () => {
    const unreachable = 'postgres://arbor:arbor@127.0.0.1:1/arbor_test';
    await expect(openPostgresReadModels(unreachable, { schema })).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
