// Seeds a fresh embedded data directory without HTTP: domain events written straight through the real SQLite
// adapters of the built libs, so seeding 300k events takes about a minute instead of an hour of POSTs.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export function branchingFor(n) {
  let b = 2;
  for (;;) {
    const next = b + 1;
    const upToDepth9 = (next ** 10 - 1) / (next - 1);
    if (upToDepth9 >= n) return b;
    b = next;
  }
}

export async function seed(dir, opts, log) {
  const { openSqliteEventStore, openSqliteSecretVault } = require('@arbor/sqlite');
  const { PersonalDataCipher, PasswordHasher, ClientSecretHasher } = require('@arbor/application');
  const { newId, orgStreamId, userStreamId, membershipStreamId, clientStreamId } = require('@arbor/domain');

  const started = Date.now();
  const store = openSqliteEventStore(join(dir, 'events.sqlite'));
  const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
  // Seeding only: one fsync per sealed user's data key would make seeding minutes long. The server reopens the
  // vault with its own settings (synchronous = FULL).
  vault.db?.pragma('synchronous = OFF');
  // A bigger page cache for the seeding connection only: the event_orgs index takes random inserts.
  store.writer?.pragma('cache_size = -262144');
  const cipher = new PersonalDataCipher(vault);
  const hasher = new PasswordHasher();
  const secrets = new ClientSecretHasher(vault);
  const actor = { type: 'system', id: 'bench' };

  let pending = [];
  let events = 0;
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    await store.transaction(async (tx) => {
      for (const e of batch) {
        const r = await tx.append(e.streamId, [{ type: e.type, data: e.data, actor, orgPath: e.orgPath }], 'no_stream');
        if (!r.ok) throw new Error(`seed append failed on ${e.streamId}: ${JSON.stringify(r)}`);
      }
    });
    events += batch.length;
  };
  const emit = async (streamId, type, data, orgPath) => {
    pending.push({ streamId, type, data, orgPath });
    if (pending.length >= 5000) await flush();
  };

  // The admin first, a platform admin with a password, so the server's bootstrap does nothing.
  const admin = { id: newId('usr'), email: 'admin@bench.test', password: `bench-admin-${newId('pw')}` };
  await vault.setPasswordHash(admin.id, await hasher.hash(admin.password));
  await emit(
    userStreamId(admin.id),
    'UserCreated',
    {
      userId: admin.id,
      personal: await cipher.seal(admin.id, { email: admin.email, name: 'Bench admin' }),
      platformAdmin: true,
    },
    [],
  );

  // Organizations: a complete b-ary tree in breadth-first order (parents before children), depth >= 10.
  const n = opts.orgs;
  const b = branchingFor(n);
  const ids = new Array(n);
  const parent = new Int32Array(n);
  const depth = new Uint8Array(n);
  const pathOf = (i) => {
    const p = [];
    for (let k = i; k >= 0; k = k === 0 ? -1 : parent[k]) p.push(ids[k]);
    return p.reverse();
  };
  for (let i = 0; i < n; i++) {
    ids[i] = newId('org');
    parent[i] = i === 0 ? -1 : Math.floor((i - 1) / b);
    depth[i] = i === 0 ? 0 : depth[parent[i]] + 1;
    await emit(
      orgStreamId(ids[i]),
      'OrgCreated',
      {
        orgId: ids[i],
        name: i === 0 ? 'Bench root' : `Org ${i}`,
        parentId: i === 0 ? null : ids[parent[i]],
        description: null,
        metadata: {},
      },
      pathOf(i),
    );
  }
  const maxDepth = depth[n - 1];
  const atDepth = (d) => {
    const out = [];
    for (let i = 0; i < n; i++) if (depth[i] === d) out.push(i);
    return out;
  };
  const level3 = atDepth(Math.min(3, maxDepth));
  const level4 = atDepth(Math.min(4, maxDepth));
  const level5 = atDepth(Math.min(5, maxDepth));
  const leaves = atDepth(maxDepth);
  log(`seeded ${n} orgs (branching ${b}, depth ${maxDepth}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  // Users: personal data sealed under each user's own key; passwords only for a few login users.
  const loginUsers = [];
  const userIds = new Array(opts.users);
  for (let i = 0; i < opts.users; i++) {
    const id = (userIds[i] = newId('usr'));
    const email = `user${i}@bench.test`;
    if (i < 4) {
      const password = `bench-password-${i}-${newId('pw')}`;
      await vault.setPasswordHash(id, await hasher.hash(password));
      loginUsers.push({ email, password });
    }
    await emit(
      userStreamId(id),
      'UserCreated',
      { userId: id, personal: await cipher.seal(id, { email, name: `Bench User ${i}` }), platformAdmin: false },
      [],
    );
  }
  log(`seeded ${opts.users} users in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  // Memberships: 10 "hot" organizations (depth 3) with 100 members each; every other user in one organization.
  const hot = level3.slice(0, 10);
  for (let i = 0; i < opts.users; i++) {
    const org = i < 1000 ? hot[i % hot.length] : (i * 7919) % n;
    const roles = i % 10 === 0 ? ['admin'] : ['member'];
    await emit(
      membershipStreamId(ids[org], userIds[i]),
      'UserAddedToOrg',
      { orgId: ids[org], userId: userIds[i], roles },
      pathOf(org),
    );
  }

  // The search user (search/resource): a member of 50 depth-5 organizations spread over the tree, so their
  // orgs:read reaches 50 subtrees; `searchResults` counts the organizations in them.
  const searchUserId = newId('usr');
  await emit(
    userStreamId(searchUserId),
    'UserCreated',
    {
      userId: searchUserId,
      personal: await cipher.seal(searchUserId, { email: 'search@bench.test', name: 'Bench Search User' }),
      platformAdmin: false,
    },
    [],
  );
  const searchRoots = Array.from(
    { length: Math.min(50, level5.length) },
    (_, j) => level5[Math.floor((j * level5.length) / Math.min(50, level5.length))],
  );
  const subtreeSize = new Int32Array(n).fill(1);
  for (let i = n - 1; i > 0; i--) subtreeSize[parent[i]] += subtreeSize[i];
  let searchResults = 0;
  for (const org of searchRoots) {
    searchResults += subtreeSize[org];
    await emit(
      membershipStreamId(ids[org], searchUserId),
      'UserAddedToOrg',
      { orgId: ids[org], userId: searchUserId, roles: ['member'] },
      pathOf(org),
    );
  }

  // The subject search (search/subject): 10,000 users (1000.., never the hot members the evaluations use) get a
  // second membership, role `member`, on one depth-2 organization off the hot organizations' branches; the
  // search asks who may `orgs:read` on the deepest organization below it down its first children, so every one
  // of those grants is inherited over seven or more levels. `subjectResults` counts the expected results: those
  // members, the seeded members of the other organizations on the path, and the platform admin.
  const level2 = atDepth(Math.min(2, maxDepth));
  const subjectRoot = level2[level2.length - 1];
  let subjectOrg = subjectRoot;
  while (b * subjectOrg + 1 < n) subjectOrg = b * subjectOrg + 1;
  const subjectPath = new Set();
  for (let k = subjectOrg; k >= 0; k = k === 0 ? -1 : parent[k]) subjectPath.add(k);
  const subjectMembers = Math.min(10_000, opts.users - 1000);
  let subjectResults = 1 + (searchRoots.some((o) => subjectPath.has(o)) ? 1 : 0); // the platform admin, the search user
  let subjectGrants = 0;
  for (let i = 0; i < opts.users; i++)
    if (subjectPath.has(i < 1000 ? hot[i % hot.length] : (i * 7919) % n)) subjectResults++;
  for (let i = 1000; i < 1000 + subjectMembers; i++) {
    // A user already a member of the root holds the grant once (their first membership stays as it is).
    if ((i * 7919) % n === subjectRoot) continue;
    if (!subjectPath.has((i * 7919) % n)) subjectResults++;
    subjectGrants++;
    await emit(
      membershipStreamId(ids[subjectRoot], userIds[i]),
      'UserAddedToOrg',
      { orgId: ids[subjectRoot], userId: userIds[i], roles: ['member'] },
      pathOf(subjectRoot),
    );
  }

  // Client credentials, secrets kept in memory for the load.
  const clients = [];
  for (let i = 0; i < opts.clients; i++) {
    const id = newId('cc');
    const clientId = newId('cli');
    const secret = ClientSecretHasher.newSecret();
    await vault.setClientSecretHash(id, await secrets.hash(secret));
    const org = (i * 104729) % n;
    await emit(
      clientStreamId(id),
      'ClientCredentialIssued',
      {
        clientCredentialId: id,
        clientId,
        name: `Bench client ${i}`,
        orgId: ids[org],
        scopes: ['orgs:read', 'users:read'],
      },
      pathOf(org),
    );
    clients.push({ clientId, secret });
  }
  await flush();
  await store.close();
  await vault.close();
  const seconds = (Date.now() - started) / 1000;
  log(`seeded ${events} events in ${seconds.toFixed(1)}s`);

  // Access decisions: a hot organization's member (depth 3) asked about a leaf below it (depth >= 10), so the
  // answer is inherited down seven or more levels. Leaves under no hot organization are skipped.
  const hotIndex = new Map(hot.map((o, h) => [o, h]));
  const evaluationPairs = [];
  for (const leaf of leaves) {
    let k = leaf;
    while (depth[k] > depth[hot[0]]) k = parent[k];
    const h = hotIndex.get(k);
    if (h === undefined) continue;
    // Users i < 1000 are members of hot[i % hot.length].
    const member = h + hot.length * (evaluationPairs.length % Math.floor(1000 / hot.length));
    evaluationPairs.push({ userId: userIds[member], orgId: ids[leaf] });
    if (evaluationPairs.length >= 1000) break;
  }

  const pick = (arr, k) =>
    Array.from(
      { length: Math.min(k, arr.length) },
      (_, j) => arr[Math.floor((j * arr.length) / Math.min(k, arr.length))],
    );
  return {
    stats: {
      orgs: n,
      users: opts.users + 1,
      memberships: opts.users + searchRoots.length + subjectGrants,
      searchResults,
      subjectSearchOrgDepth: depth[subjectOrg],
      subjectResults,
      clients: opts.clients,
      branching: b,
      maxDepth,
      events,
      seconds,
    },
    admin,
    loginUsers,
    clients,
    rootId: ids[0],
    midId: ids[level5[0]],
    midDepth: depth[level5[0]],
    orgIds: ids,
    leafIds: pick(leaves, 1000).map((i) => ids[i]),
    hotOrgIds: hot.map((i) => ids[i]),
    createParentIds: pick(level4, 100).map((i) => ids[i]),
    evaluationPairs,
    searchUserId,
    searchRoots: searchRoots.length,
    searchResults,
    subjectOrgId: ids[subjectOrg],
    subjectRootDepth: depth[subjectRoot],
    subjectOrgDepth: depth[subjectOrg],
    subjectMembers: subjectGrants,
    subjectResults,
  };
}
