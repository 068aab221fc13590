// What the read-model adapters cost, outside the server, engine beside engine (issue 16: the MongoDB row set).
// The same generated tree (default 10,000 organizations, branching 3, so depth 8; one user a member of every
// depth-2 organization) is projected through each adapter's `apply` in batches of 500, as the projector does;
// then each adapter answers the hierarchy reads the API serves, and finally a rebuild (reset, then the same log).
//   node bench/read-models-micro.mjs [--orgs N] [--engines sqlite,postgres,mongodb] [--rounds K] [--keep]
// after `npm run build`. PostgreSQL needs DATABASE_URL (scripts/services/postgres.sh), MongoDB MONGODB_URL
// (scripts/services/ferretdb.sh: FerretDB 1.24.2, a MongoDB-protocol server over PostgreSQL; a real MongoDB gives
// other figures). Each engine gets a fresh schema/database, dropped at the end (kept with --keep, named on stderr). Prints one table, and writes the
// figures to bench/results/<time>-read-models.json. Reads are timed one at a time (no concurrency): a read's figure
// is its own cost, the median over `rounds` x 200 calls (random organizations of the stated kind).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { values: argv } = parseArgs({
  options: {
    orgs: { type: 'string' },
    engines: { type: 'string' },
    rounds: { type: 'string' },
    keep: { type: 'boolean' },
  },
});
const ORGS = Number(argv.orgs ?? 10_000);
const ROUNDS = Number(argv.rounds ?? 3);
const ENGINES = (argv.engines ?? 'sqlite,postgres,mongodb').split(',');
const BATCH = 500;
const CALLS = 200;

/** The log: ORGS organizations (parent of i is floor((i - 1) / 3)), then one user and their memberships. */
function generate() {
  const events = [];
  let position = 0;
  const at = () => new Date(Date.UTC(2026, 0, 1) + position * 1000).toISOString();
  const push = (type, streamId, data, extra = {}) => {
    position += 1;
    events.push({
      id: `evt-${position}`,
      type,
      streamId,
      streamVersion: 1,
      position,
      occurredAt: at(),
      actor: { type: 'system', id: 'system' },
      data,
      orgPath: [],
      ...extra,
    });
  };
  const ids = Array.from({ length: ORGS }, (_, i) => `org_bench${String(i).padStart(21, '0')}`);
  const depth = [0];
  for (let i = 0; i < ORGS; i++) {
    const parent = i === 0 ? null : Math.floor((i - 1) / 3);
    if (i > 0) depth[i] = depth[parent] + 1;
    push('OrgCreated', `org-${ids[i]}`, {
      orgId: ids[i],
      name: `Org ${i}`,
      parentId: parent === null ? null : ids[parent],
      description: null,
      metadata: {},
    });
  }
  const userId = 'usr_bench000000000000000000001';
  push(
    'UserCreated',
    `user-${userId}`,
    { userId, personal: 'v1.x.y', platformAdmin: false },
    { personal: { email: 'bench@example.com', name: 'Bench' } },
  );
  const level2 = ids.filter((_, i) => depth[i] === 2);
  for (const orgId of level2)
    push('UserAddedToOrg', `membership-${orgId}-${userId}`, { orgId, userId, roles: ['member'] });
  const maxDepth = Math.max(...depth);
  return {
    events,
    root: ids[0],
    mid: ids.filter((_, i) => depth[i] === 3),
    leaves: ids.filter((_, i) => depth[i] === maxDepth),
    all: ids,
    userId,
    level2,
    maxDepth,
  };
}

async function open(engine) {
  if (engine === 'sqlite') {
    const { openSqliteReadModels } = require(join(here, '../libs/sqlite/dist/index.js'));
    const dir = mkdtempSync(join(tmpdir(), 'arbor-rm-bench-'));
    const rm = openSqliteReadModels(join(dir, 'read-models.sqlite'));
    return { rm, name: dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  if (engine === 'postgres') {
    if (!process.env.DATABASE_URL) throw new Error('postgres: set DATABASE_URL (scripts/services/postgres.sh)');
    const { openPostgresReadModels } = require(join(here, '../libs/postgres/dist/index.js'));
    const pg = require('pg');
    const schema = `rm_bench_${suffix}`;
    const rm = await openPostgresReadModels(process.env.DATABASE_URL, { schema, poolSize: 4 });
    const drop = async () => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    };
    return { rm, name: `schema ${schema}`, drop };
  }
  if (engine === 'mongodb') {
    if (!process.env.MONGODB_URL) throw new Error('mongodb: set MONGODB_URL (scripts/services/ferretdb.sh)');
    const { openMongoReadModels } = require(join(here, '../libs/mongodb/dist/index.js'));
    const { MongoClient } = require('mongodb');
    const database = `rm_bench_${suffix}`;
    const rm = await openMongoReadModels(process.env.MONGODB_URL, { database });
    const drop = async () => {
      const client = new MongoClient(process.env.MONGODB_URL);
      await client.connect();
      await client.db(database).dropDatabase();
      await client.close();
    };
    return { rm, name: `database ${database}`, drop };
  }
  throw new Error(`unknown engine ${engine} (sqlite, postgres, mongodb)`);
}

async function project(rm, events) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) await rm.apply(events.slice(i, i + BATCH));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return Math.round(events.length / seconds);
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median milliseconds of one call of `read`, over ROUNDS x CALLS calls one after another. */
async function time(read) {
  const samples = [];
  for (let round = 0; round < ROUNDS; round++)
    for (let i = 0; i < CALLS; i++) {
      const started = process.hrtime.bigint();
      await read();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  return median(samples);
}

async function measure(engine, log) {
  const { rm, name, drop } = await open(engine);
  try {
    const projection = await project(rm, log.events);
    const page = { limit: 50 };
    const reads = {
      get_org: () => rm.orgs.get(pick(log.all)),
      children_root_depth1: () => rm.orgs.children(log.root, 1, page),
      children_mid_all: () => rm.orgs.children(pick(log.mid), null, page),
      parents_leaf: () => rm.orgs.parents(pick(log.leaves)),
      user_orgs: () => rm.memberships.listByUser(log.userId, {}),
      // An evaluation's facts: the user's roles on a leaf, inherited from a depth-2 membership above it.
      access_question: () => rm.memberships.accessQuestions([{ userId: log.userId, orgId: pick(log.leaves) }]),
      // search/resource's walk: the first 100 organizations of the user's nine subtrees.
      search_orgs: () => rm.search.orgIdsAfter({ subtreeRoots: log.level2, orgIds: [] }, '', 100),
      search_users: () => rm.search.userIdsAfter([{ orgId: pick(log.level2), roles: ['member'] }], false, '', 100),
    };
    const ms = {};
    for (const [name, read] of Object.entries(reads)) ms[name] = await time(read);
    await rm.reset();
    const rebuild = await project(rm, log.events);
    return { engine, projection, rebuild, ms };
  } finally {
    await rm.close();
    if (argv.keep) process.stderr.write(`[read-models] ${engine}: kept ${name}\n`);
    else await drop();
  }
}

const log = generate();
const results = [];
for (const engine of ENGINES) {
  process.stderr.write(`[read-models] ${engine}: projecting ${log.events.length} events...\n`);
  results.push(await measure(engine, log));
}
const names = Object.keys(results[0].ms);
const rows = [
  `| engine | projection events/s | rebuild events/s | ${names.map((n) => `${n} ms`).join(' | ')} |`,
  `|---|--:|--:|${names.map(() => '--:').join('|')}|`,
  ...results.map(
    (r) =>
      `| ${r.engine} | ${r.projection.toLocaleString('en')} | ${r.rebuild.toLocaleString('en')} | ${names.map((n) => r.ms[n].toFixed(3)).join(' | ')} |`,
  ),
];
console.log(
  `read models, ${ORGS.toLocaleString('en')} organizations (depth ${log.maxDepth}), ${log.events.length.toLocaleString('en')} events, batches of ${BATCH}; reads: median of ${ROUNDS * CALLS} calls one at a time`,
);
console.log(rows.join('\n'));
const dir = join(here, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/:/g, '-').replace(/\..*/, 'Z')}-read-models.json`);
writeFileSync(
  file,
  JSON.stringify({ orgs: ORGS, events: log.events.length, maxDepth: log.maxDepth, results }, null, 2),
);
console.log(`results: ${file}`);
