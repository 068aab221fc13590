import type { ProjectableEvent } from '@arbor/application';
import { describeWithEnv, Log } from '@arbor/testing';
import type { MongoReadModels } from './mongo-read-models';
import { dropDatabase, dumpReadModels, openTestReadModels, randomDatabase } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

/** What the write hook throws: a crash after the n-th write of an `apply`. */
class Crash extends Error {}

/**
 * A base batch, then one batch touching every kind of document and primitive: a subtree move (and a move to the
 * root and back under another parent), renames, a membership's version counting up, removed and added again,
 * erasure, clients, roles, permissions deleted and defined again, a webhook subscription's life, deletions.
 */
function batches(): { base: ProjectableEvent[]; batch: ProjectableEvent[] } {
  const log = new Log();
  const hook = { url: 'https://hooks.example.com/a', eventTypes: ['OrgCreated'], description: 'About a' };
  const base = [
    log.created('r', 'Root', null),
    log.created('a', 'Alpha', 'r'),
    log.created('b', 'Beta', 'r'),
    log.created('c', 'Other', null),
    log.created('a1', 'One', 'a'),
    log.created('a2', 'Two', 'a'),
    log.created('a21', 'Deep', 'a2'),
    log.created('b1', 'Leaf', 'b'),
    log.user('u1', { email: 'one@example.com', name: 'One' }),
    log.user('u2', { email: 'two@example.com', name: 'Two' }),
    log.user('u3', { email: 'three@example.com', name: 'Three' }, true),
    log.user('u4', { email: 'four@example.com', name: 'Four' }),
    log.added('a', 'u1', ['admin']),
    log.added('r', 'u2', ['member']),
    log.added('a2', 'u3', ['member'], { pending: true }),
    log.clientIssued('c1', 'cid-1', 'a', ['read']),
    log.role('RoleDefined', 'role_1', 'r', ['orgs:read']),
    log.permission('ApplicationPermissionDefined', 'r', 'app:x'),
    log.webhook('WebhookSubscriptionCreated', 'whk_1', 'a', hook),
  ];
  const batch = [
    log.updated('a', 'Alpha renamed'),
    log.moved('a2', 'a', 'b'),
    log.rolesSet('a', 'u1', ['member']),
    log.confirmed('a2', 'u3'),
    log.rolesSet('a2', 'u3', ['admin']),
    log.removed('r', 'u2'),
    log.added('r', 'u2', ['admin']),
    log.userUpdated('u1', { email: 'uno@example.com', name: 'Uno' }),
    log.userStatus('UserDisabled', 'u4'),
    log.userStatus('UserEnabled', 'u4'),
    log.clientRolesChanged('c1', 'cid-1', 'a', ['role_1']),
    log.clientIssued('c2', 'cid-2', 'b', ['x']),
    log.clientRevoked('c2', 'cid-2', 'b'),
    log.role('RoleUpdated', 'role_1', 'r', ['orgs:read', 'users:read']),
    log.role('RoleDefined', 'role_2', 'a', ['orgs:read']),
    log.roleDeleted('role_2', 'a'),
    log.permission('ApplicationPermissionUpdated', 'r', 'app:x', 'Changed'),
    log.permissionDeleted('r', 'app:x'),
    log.permission('ApplicationPermissionDefined', 'r', 'app:x', 'Again'),
    log.webhook('WebhookSubscriptionUpdated', 'whk_1', 'a', { ...hook, url: 'https://hooks.example.com/b' }),
    log.webhook('WebhookSubscriptionDisabled', 'whk_1', 'a', { reason: 'HTTP 500' }),
    log.webhook('WebhookSubscriptionDeleted', 'whk_1', 'a'),
    log.moved('a', 'r', null),
    log.created('a11', 'Below', 'a1'),
    log.moved('a', null, 'b'),
    log.deleted('b1', 'b'),
    log.user('u5', null),
    log.userUpdated('u1', null),
    log.removed('a', 'u1'),
    log.added('a', 'u1', ['member']),
  ];
  return { base, batch };
}

maybe('MongoReadModels interrupted mid-batch', () => {
  const database = randomDatabase('rm_interrupted');
  const { base, batch } = batches();
  const end = batch[batch.length - 1].position;
  let rm: MongoReadModels;
  let writes = 0;
  let crashAt = Infinity;
  let reference: Record<string, unknown[]>;
  let total = 0;

  beforeAll(async () => {
    rm = await openTestReadModels(database, {
      afterWrite: () => {
        writes += 1;
        if (writes === crashAt) throw new Crash(`crash after write ${writes}`);
      },
    });
    // The reference: the two batches applied without interruption; `total` counts the second's writes.
    await rm.apply(base);
    writes = 0;
    await rm.apply(batch);
    total = writes;
    reference = await dumpReadModels(rm);
  });
  afterAll(async () => {
    await rm?.close();
    await dropDatabase(database);
  });

  /**
   * Resets, applies the base batch, then the batch, crashing after the n-th write of each apply in turn, until one
   * apply finishes before its crash point (a re-apply writes less: what is already there is skipped); then applies
   * the batch without a crash. Returns how many applies crashed.
   */
  async function interrupted(crashes: number[]): Promise<number> {
    crashAt = Infinity;
    await rm.reset();
    expect(await rm.apply(base)).toBe(base[base.length - 1].position);
    let crashed = 0;
    for (const n of crashes) {
      writes = 0;
      crashAt = n;
      const outcome = await rm.apply(batch).then(
        () => 'done',
        (e: unknown) => {
          if (e instanceof Crash) return 'crashed';
          throw e;
        },
      );
      if (outcome === 'done') break;
      crashed += 1;
      // The checkpoint is written last: the batch counts as not applied.
      expect(await rm.checkpoint()).toBe(base[base.length - 1].position);
    }
    crashAt = Infinity;
    expect(await rm.apply(batch)).toBe(end);
    return crashed;
  }

  it('counts the writes of the batch (the crash points below)', () => {
    expect(total).toBeGreaterThan(batch.length);
  });

  // Every write; each point is a reset, the base batch and the batch twice (FerretDB: about 0.3 s, so ~30-40 s in all
  // on a quick machine). Its own timeout, not the suite's 60 s: on a machine several times slower (CI's may be) it
  // timed out, and the loop, still running, then crashed the next test's applies through the shared crash point.
  const EVERY_WRITE_TIMEOUT_MS = 600_000;
  it(
    'ends, after a crash at any write of the batch and a re-apply, equal to an uninterrupted apply',
    async () => {
      for (let n = 1; n <= total; n++) {
        expect(await interrupted([n])).toBe(1);
        expect({ crashAfterWrite: n, dump: await dumpReadModels(rm) }).toEqual({ crashAfterWrite: n, dump: reference });
      }
    },
    EVERY_WRITE_TIMEOUT_MS,
  );

  it('also after several crashes in a row, each re-apply getting further or less far', async () => {
    const last = total - 1;
    const third = Math.floor(total / 3);
    for (const crashes of [
      [last, 2],
      [third, 2 * third, 5],
      [5, third, last],
      [last, third, 1],
    ]) {
      const crashed = await interrupted(crashes);
      expect(crashed).toBeGreaterThanOrEqual(2);
      expect({ crashes, dump: await dumpReadModels(rm) }).toEqual({ crashes, dump: reference });
    }
  });

  it('re-applying the whole batch after it was checkpointed changes nothing', async () => {
    await interrupted([]);
    expect(await rm.apply(batch)).toBe(end);
    expect(await dumpReadModels(rm)).toEqual(reference);
  });
});
