import { describeWithEnv, Log, orgReadModelsConformance } from '@arbor/testing';
import { openMongoReadModels, type MongoReadModels } from './mongo-read-models';
import { BULK_CHUNK } from './mongo-projection';
import { databaseReadModels, dropDatabase, openTestReadModels, randomDatabase } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoReadModels (conformance)', () => {
  orgReadModelsConformance(databaseReadModels('rm_orgs_conf'));
});

maybe('MongoReadModels', () => {
  const database = randomDatabase('rm_orgs');
  let rm: MongoReadModels;

  beforeAll(async () => {
    rm = await openTestReadModels(database);
  });
  afterAll(async () => {
    await rm?.close();
    await dropDatabase(database);
  });

  it('moves a subtree larger than one bulk chunk: every node gets its new ancestors and depth', async () => {
    // FerretDB 1.24 hangs on one update command of too many statements: the rewrite goes in chunks.
    await rm.reset();
    const log = new Log();
    const size = 3 * BULK_CHUNK + 5;
    const events = [log.created('r', 'Root', null), log.created('x', 'X', 'r'), log.created('m', 'Moved', 'r')];
    // A chain of 5 below `m`, then the rest as children of the chain's end.
    let parent = 'm';
    for (let i = 0; i < size; i++) {
      const id = `n${String(i).padStart(3, '0')}`;
      events.push(log.created(id, id, parent));
      if (i < 5) parent = id;
    }
    events.push(log.moved('m', 'r', 'x'));
    await rm.apply(events);
    const below = await rm.orgs.children('m', null, { limit: 1000 });
    expect(below.items).toHaveLength(size);
    for (const org of below.items) {
      const path = (await rm.orgs.parents(org.id)).map((o) => o.id);
      expect(path.slice(0, 3)).toEqual(['r', 'x', 'm']);
      expect(org.depth).toBe(path.length);
    }
    expect((await rm.orgs.children('x', 1, { limit: 10 })).items.map((o) => o.id)).toEqual(['m']);
    expect((await rm.orgs.get('n004'))?.depth).toBe(7);
  });

  it('creates its indexes idempotently: opening the same database again works', async () => {
    const again = await openTestReadModels(database);
    try {
      expect(await again.checkpoint()).toBe(await rm.checkpoint());
    } finally {
      await again.close();
    }
  });

  it('rejects when the server cannot be reached', async () => {
    await expect(
      openMongoReadModels('mongodb://127.0.0.1:1/', { database, serverSelectionTimeoutMS: 500 }),
    ).rejects.toThrow(/ECONNREFUSED|connect|Server selection/i);
  });
});
