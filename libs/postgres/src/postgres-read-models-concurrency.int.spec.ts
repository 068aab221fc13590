import type { ProjectableEvent } from '@arbor/application';
import type { Role } from '@arbor/domain';
import { Pool } from 'pg';
import { openPostgresReadModels, type PostgresReadModels } from './postgres-read-models';
import type { ReadModelProjection } from './read-model-projection';
import { describeWithEnv, Log } from '@arbor/testing';
import { DATABASE_URL, dropSchema, dumpReadModels, randomSchema } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

/** A deterministic pseudo-random generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A valid history of `count` events over every event type: organizations created, renamed, moved (never
 * under their own subtree) and deleted (leaves only), users, memberships and clients coming and going.
 */
function history(count: number, seed: number): ProjectableEvent[] {
  const rnd = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rnd() * items.length)];
  const names = ['Alpha', 'alpha', 'Beta', 'ÉCOLE', 'école', 'Zeta', '_under', 'Ärvid', 'delta', '100%', 'a_b'];
  const roleSets: Role[][] = [['member'], ['admin'], ['owner'], ['member', 'admin'], ['owner', 'member']];
  const log = new Log();
  const events: ProjectableEvent[] = [];
  const parent = new Map<string, string | null>();
  const users: string[] = [];
  const memberships = new Set<string>();
  const clients = new Map<string, string>();
  let n = 0;
  const id = (prefix: string) => `${prefix}${String(++n).padStart(4, '0')}`;
  const subtree = (root: string): Set<string> => {
    const inside = new Set([root]);
    let grown = true;
    while (grown) {
      grown = false;
      for (const [org, p] of parent)
        if (p !== null && inside.has(p) && !inside.has(org)) {
          inside.add(org);
          grown = true;
        }
    }
    return inside;
  };
  while (events.length < count) {
    const orgs = [...parent.keys()];
    const dice = rnd();
    if (orgs.length < 4 || dice < 0.2) {
      const org = id('o');
      const under = orgs.length === 0 || rnd() < 0.15 ? null : pick(orgs);
      parent.set(org, under);
      events.push(log.created(org, `${pick(names)} ${org}`, under));
    } else if (dice < 0.3) {
      events.push(log.updated(pick(orgs), `${pick(names)} ${n}`));
    } else if (dice < 0.42) {
      const org = pick(orgs);
      const targets = orgs.filter((o) => !subtree(org).has(o));
      const to = targets.length === 0 || rnd() < 0.2 ? null : pick(targets);
      if (to === parent.get(org)) continue;
      events.push(log.moved(org, parent.get(org) ?? null, to));
      parent.set(org, to);
    } else if (dice < 0.46) {
      const leaves = orgs.filter((o) => ![...parent.values()].includes(o));
      const org = pick(leaves);
      for (const key of [...memberships]) if (key.startsWith(`${org}/`)) memberships.delete(key);
      for (const [client, o] of [...clients]) if (o === org) clients.delete(client);
      events.push(log.deleted(org, parent.get(org) ?? null));
      parent.delete(org);
    } else if (users.length < 3 || dice < 0.55) {
      const user = id('u');
      users.push(user);
      events.push(
        log.user(user, rnd() < 0.9 ? { email: `${user}@Example.com`, name: pick(names) } : null, rnd() < 0.1),
      );
    } else if (dice < 0.6) {
      const user = pick(users);
      events.push(log.userUpdated(user, rnd() < 0.9 ? { email: `${user}.${n}@x.org`, name: pick(names) } : null));
    } else if (dice < 0.65) {
      events.push(log.userStatus(rnd() < 0.5 ? 'UserDisabled' : 'UserEnabled', pick(users)));
    } else if (dice < 0.78) {
      const org = pick(orgs);
      const user = pick(users);
      memberships.add(`${org}/${user}`);
      events.push(log.added(org, user, pick(roleSets)));
    } else if (dice < 0.86 && memberships.size > 0) {
      const [org, user] = pick([...memberships]).split('/');
      events.push(log.rolesSet(org, user, pick(roleSets)));
    } else if (dice < 0.9 && memberships.size > 0) {
      const key = pick([...memberships]);
      memberships.delete(key);
      const [org, user] = key.split('/');
      events.push(log.removed(org, user));
    } else if (dice < 0.96 || clients.size === 0) {
      const client = id('c');
      const org = pick(orgs);
      clients.set(client, org);
      events.push(log.clientIssued(client, `cid-${client}`, org, rnd() < 0.5 ? [] : ['orgs:read']));
    } else {
      const client = pick([...clients.keys()]);
      events.push(log.clientRevoked(client, `cid-${client}`, clients.get(client)!));
      clients.delete(client);
    }
  }
  return events;
}

const batches = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Counts the events each instance's projection applies (each call is one event applied in a transaction). */
function countApplied(rm: PostgresReadModels): number[] {
  const applied: number[] = [];
  const projection = (rm as unknown as { projection: ReadModelProjection }).projection;
  const original = projection.apply.bind(projection);
  jest.spyOn(projection, 'apply').mockImplementation(async (db, event) => {
    applied.push(event.position);
    return original(db, event);
  });
  return applied;
}

maybe('PostgresReadModels with concurrent projectors', () => {
  const single = randomSchema('rm_single');
  const shared = randomSchema('rm_shared');
  let pool: Pool;

  beforeAll(() => {
    pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await dropSchema(single);
    await dropSchema(shared);
  });

  it('applies every event exactly once when two instances apply the same batches at once', async () => {
    const events = history(600, 7);
    expect(new Set(events.map((e) => e.type)).size).toBe(13);

    const alone = await openPostgresReadModels(DATABASE_URL, { schema: single });
    try {
      for (const batch of batches(events, 25)) await alone.apply(batch);
    } finally {
      await alone.close();
    }

    // Two projector processes: separate pools, so separate connections; different batch sizes, so their
    // batches overlap in every way. Opening at once also races on creating the schema.
    const [one, two] = await Promise.all([
      openPostgresReadModels(DATABASE_URL, { schema: shared, poolSize: 2 }),
      openPostgresReadModels(DATABASE_URL, { schema: shared, poolSize: 2 }),
    ]);
    try {
      const appliedByOne = countApplied(one);
      const appliedByTwo = countApplied(two);
      const run = async (rm: PostgresReadModels, size: number) => {
        const checkpoints: number[] = [];
        for (const batch of batches(events, size)) checkpoints.push(await rm.apply(batch));
        return checkpoints;
      };
      const [checkpointsOne, checkpointsTwo] = await Promise.all([run(one, 7), run(two, 11)]);
      const last = events[events.length - 1].position;
      expect(checkpointsOne[checkpointsOne.length - 1]).toBe(last);
      expect(checkpointsTwo[checkpointsTwo.length - 1]).toBe(last);
      // Together they applied each event exactly once (which one did how much depends on scheduling).
      expect([...appliedByOne, ...appliedByTwo].sort((a, b) => a - b)).toEqual(events.map((e) => e.position));
      for (const applied of [appliedByOne, appliedByTwo]) {
        expect(applied).toEqual([...applied].sort((a, b) => a - b));
      }
      expect(await one.checkpoint()).toBe(last);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }

    const expected = await dumpReadModels(pool, single);
    const actual = await dumpReadModels(pool, shared);
    expect(expected.orgs.length).toBeGreaterThan(20);
    expect(expected.memberships.length).toBeGreaterThan(10);
    expect(actual).toEqual(expected);
  });

  it('makes a projector blocked on the checkpoint lock skip what the other one committed meanwhile', async () => {
    const schema = randomSchema('rm_blocked');
    const events = history(120, 11);
    const [one, two] = await Promise.all([
      openPostgresReadModels(DATABASE_URL, { schema, poolSize: 1 }),
      openPostgresReadModels(DATABASE_URL, { schema, poolSize: 1 }),
    ]);
    const holder = await pool.connect();
    try {
      expect(await one.apply(events.slice(0, 10))).toBe(10);
      const appliedByOne = countApplied(one);
      const appliedByTwo = countApplied(two);
      // Hold the checkpoint row as a third projector would, so both batches wait on it at the same time.
      await holder.query('BEGIN');
      await holder.query(`SELECT position FROM "${schema}".checkpoint FOR UPDATE`);
      const first = one.apply(events.slice(0, 80));
      const second = two.apply(events);
      const waiting = async () =>
        Number(
          (
            await pool.query(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
              [`%"${schema}".checkpoint%FOR UPDATE%`],
            )
          ).rows[0].n,
        );
      for (let i = 0; i < 100 && (await waiting()) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await waiting()).toBe(2);
      await holder.query('COMMIT');
      const [upTo80, upToAll] = await Promise.all([first, second]);
      // Whichever went first, the other found its checkpoint and applied only what lay above it.
      expect(upToAll).toBe(120);
      expect(upTo80).toBe(appliedByOne.length === 0 ? 120 : 80);
      expect([...appliedByOne, ...appliedByTwo].sort((a, b) => a - b)).toEqual(events.slice(10).map((e) => e.position));
      expect(await two.checkpoint()).toBe(120);
    } finally {
      holder.release();
      await Promise.all([one.close(), two.close()]);
      await dropSchema(schema);
    }
  });
});
