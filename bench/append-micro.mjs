// Store-level cost of an append, without HTTP: 20,000 single-event appends to a fresh SQLite event log, 50 in flight
// (group commit), through the built adapter of a tree (default: this one). Prints microseconds per append.
//   node bench/append-micro.mjs [tree root]      e.g. a worktree of an older commit, for a paired comparison
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const require = createRequire(join(root, 'package.json'));
const { openSqliteEventStore } = require(join(root, 'libs/sqlite/dist/index.js'));
const dir = mkdtempSync(join(tmpdir(), 'arbor-append-'));
const store = openSqliteEventStore(join(dir, 'events.sqlite'));
const data = {
  orgId: 'org_01HZXY12345',
  parentId: 'org_01HZXY00000',
  name: 'Acme Europe',
  description: null,
  metadata: { region: 'eu' },
};
const N = 20_000;
const started = process.hrtime.bigint();
let inFlight = [];
for (let i = 0; i < N; i++) {
  const event = {
    type: 'OrgCreated',
    data,
    actor: { type: 'user', id: 'usr_1' },
    orgPath: ['org_a', 'org_b', `org-${i}`],
  };
  inFlight.push(store.transaction((tx) => tx.append(`org-${i}`, [event], 'no_stream')));
  if (inFlight.length === 50) {
    await Promise.all(inFlight);
    inFlight = [];
  }
}
await Promise.all(inFlight);
const us = Number(process.hrtime.bigint() - started) / 1000 / N;
console.log(`${root}: ${us.toFixed(1)} us per append (${N} appends, 50 in flight)`);
await store.close();
rmSync(dir, { recursive: true, force: true });
