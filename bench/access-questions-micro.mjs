// What MembershipQueries.accessQuestions costs on the SQLite adapter, outside the server: 2,000 batches of 20
// (the evaluations_batch_20 workload's questions: a hot organization's member about a deep leaf below) and
// 2,000 single questions, over the read models of a kept bench seed. Run after `npm run build` and
//   node bench/run.mjs --embedded-only --only empty_route --duration 2 --data-dir /tmp/arbor-seed
// then: node bench/access-questions-micro.mjs /tmp/arbor-seed
// Check out and build another commit to compare (the numbers are µs per call, best of 3 rounds). The seed is opened
// read-only: one written before the read models' migration 'access-question-indexes' lacks the indexes this build
// names ("no such index: orgs_access"); start the server on it once to migrate it, or seed afresh.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const { SqliteMembershipQueries } = require('../libs/sqlite/dist/sqlite-membership-queries.js');

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/access-questions-micro.mjs <kept bench data dir>');
const db = new Database(join(dir, 'read-models.sqlite'), { readonly: true });
db.pragma('cache_size = -65536');
const queries = new SqliteMembershipQueries(db);

// The seed's evaluation pairs: members of the 10 depth-3 organizations with 100 members, leaves of depth >= 10.
const hot = db
  .prepare(
    `SELECT id FROM orgs o WHERE depth = 3 AND (SELECT count(*) FROM memberships WHERE org_id = o.id) >= 100 LIMIT 10`,
  )
  .pluck()
  .all();
const pairs = [];
for (const org of hot) {
  const members = db.prepare('SELECT user_id FROM memberships WHERE org_id = ? LIMIT 100').pluck().all(org);
  const leaves = db
    .prepare(
      `SELECT c.descendant_id FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
       WHERE c.ancestor_id = ? AND o.depth >= 10 LIMIT 100`,
    )
    .pluck()
    .all(org);
  for (let i = 0; i < Math.min(100, leaves.length); i++)
    pairs.push({ userId: members[i % members.length], orgId: leaves[i] });
}
if (pairs.length === 0) throw new Error(`no evaluation pairs in ${dir}: is it a bench seed?`);
const pick = () => pairs[Math.floor(Math.random() * pairs.length)];
const batches = Array.from({ length: 2000 }, () => Array.from({ length: 20 }, pick));

const time = async (name, run) => {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (const batch of batches) await run(batch);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / batches.length);
  }
  console.log(`${name.padEnd(28)} ${best.toFixed(1)} µs`);
};
console.log(`${pairs.length} pairs over ${hot.length} organizations`);
await time('batch of 20', (batch) => queries.accessQuestions(batch));
await time('one question', (batch) => queries.accessQuestions([batch[0]]));
