import type { ProjectableEvent } from '@arbor/application';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { Log } from '@arbor/testing';
import { openSqliteReadModels, type SqliteReadModels } from './sqlite-read-models';

// r ── a ── aa, and r ── b
describe('SqliteOrgQueries subtree cache', () => {
  let dir: string;
  let file: string;
  let log: Log;
  let opened: SqliteReadModels[];
  /** Another connection to the same file: changes rows without moving the checkpoint, as no projection would. */
  let raw: SqliteDatabase;

  const open = async (subtreeCacheEntries?: number): Promise<SqliteReadModels> => {
    const rm = openSqliteReadModels(file, { subtreeCacheEntries });
    opened.push(rm);
    return rm;
  };
  const names = (items: Array<{ name: string }>) => items.map((o) => o.name);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-org-queries-'));
    file = path.join(dir, 'read-models.sqlite');
    opened = [];
    log = new Log();
    const rm = await open();
    const tree: ProjectableEvent[] = [
      log.created('r', 'Root', null),
      log.created('a', 'A', 'r'),
      log.created('aa', 'AA', 'a'),
      log.created('b', 'B', 'r'),
    ];
    await rm.apply(tree);
    raw = openSqliteDatabase(file, { synchronous: 'NORMAL' });
  });
  afterEach(async () => {
    raw.close();
    for (const rm of opened) await rm.close();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('serves a repeated children page and parent list from memory until the checkpoint moves', async () => {
    const rm = opened[0];
    const first = await rm.orgs.children('r', null, { limit: 10 });
    expect(names(first.items)).toEqual(['A', 'B', 'AA']);
    expect(names(await rm.orgs.parents('aa'))).toEqual(['Root', 'A']);

    raw.prepare("UPDATE orgs SET name = 'Changed behind its back'").run();
    expect(await rm.orgs.children('r', null, { limit: 10 })).toBe(first);
    expect(names(await rm.orgs.parents('aa'))).toEqual(['Root', 'A']);
    // Another key is another read.
    expect(names((await rm.orgs.children('r', 1, { limit: 10 })).items)).toEqual([
      'Changed behind its back',
      'Changed behind its back',
    ]);

    await rm.apply([log.updated('b', 'Bee')]);
    expect(names((await rm.orgs.children('r', null, { limit: 10 })).items)).toEqual([
      'Changed behind its back',
      'Bee',
      'Changed behind its back',
    ]);
    expect(names(await rm.orgs.parents('aa'))).toEqual(['Changed behind its back', 'Changed behind its back']);
  });

  it('sees a projection made by another process at once', async () => {
    const server = await open();
    const projector = await open();
    expect(names((await server.orgs.children('a', null, { limit: 10 })).items)).toEqual(['AA']);
    await projector.apply([log.created('ab', 'AB', 'a')]);
    expect(names((await server.orgs.children('a', null, { limit: 10 })).items)).toEqual(['AA', 'AB']);
    await projector.apply([log.moved('aa', 'a', 'b')]);
    expect(names(await server.orgs.parents('aa'))).toEqual(['Root', 'B']);
  });

  it('keeps nothing with 0 entries', async () => {
    const rm = await open(0);
    expect(names(await rm.orgs.parents('aa'))).toEqual(['Root', 'A']);
    raw.prepare("UPDATE orgs SET name = 'Now' WHERE id = 'a'").run();
    expect(names(await rm.orgs.parents('aa'))).toEqual(['Root', 'Now']);
  });

  it('hands out frozen results, so no reader can change another one', async () => {
    const rm = opened[0];
    const page = await rm.orgs.children('r', null, { limit: 10 });
    expect(Object.isFrozen(page.items[0].metadata)).toBe(true);
    expect(() => (page.items as unknown[]).pop()).toThrow(/Cannot/);
    expect(Object.isFrozen(await rm.orgs.parents('aa'))).toBe(true);
  });
});
