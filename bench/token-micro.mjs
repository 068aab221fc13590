// Micro-benchmark of access-token signing and verification (TokenService of a built libs/application).
//
//   node bench/token-micro.mjs                       # this tree's libs/application/dist, 3 runs
//   node bench/token-micro.mjs A=<dist> B=<dist>     # paired: A and B alternate, 3 runs each, medians
//
// Each run is a child process: 20k issueAccessToken, then 20k verifyAccessToken of those tokens (every one a
// cache miss: a signature verification), then 20k verifications of one token (the verified-token cache).
// Reports microseconds per operation; medians over the runs. Not part of `npm test`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.TOKEN_BENCH_N ?? 20_000);
const RUNS = Number(process.env.TOKEN_BENCH_RUNS ?? 3);
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const dist = process.argv[3];
  const { SigningKeyRing } = await import(join(dist, 'security/signing-key-ring.js'));
  const { TokenService } = await import(join(dist, 'security/token-service.js'));
  const dir = mkdtempSync(join(tmpdir(), 'arbor-token-bench-'));
  const ring = SigningKeyRing.loadOrCreate(dir);
  const subject = {
    sub: 'cli_01kb0000000000000000000000',
    scope: 'orgs:read users:read',
    clientId: 'cli_01kb0000000000000000000000',
    audience: ['http://bench.test/api/v1'],
    orgId: 'org_01kb0000000000000000000000',
  };
  const service = new TokenService(ring, { issuer: 'http://bench.test' });
  // Warm-up (JIT, key objects), not counted.
  for (let i = 0; i < 500; i++) service.verifyAccessToken(service.issueAccessToken(subject).token);
  const fresh = new TokenService(ring, { issuer: 'http://bench.test' });
  const tokens = new Array(N);
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) tokens[i] = fresh.issueAccessToken(subject).token;
  const sign = Number(process.hrtime.bigint() - t) / 1000 / N;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fresh.verifyAccessToken(tokens[i]);
  const verify = Number(process.hrtime.bigint() - t) / 1000 / N;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fresh.verifyAccessToken(tokens[0]);
  const cached = Number(process.hrtime.bigint() - t) / 1000 / N;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ sign, verify, cached }));
  process.exit(0);
}

const variants = process.argv.slice(2).map((a) => a.split('='));
if (variants.length === 0) variants.push(['this', join(self, '../../libs/application/dist')]);
const results = Object.fromEntries(variants.map(([name]) => [name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, dist] of variants) {
    results[name].push(
      JSON.parse(execFileSync(process.execPath, [self, '--child', resolve(dist)], { encoding: 'utf8' })),
    );
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`N=${N}, runs=${RUNS} (alternating); microseconds per operation, median`);
for (const [name] of variants) {
  const r = results[name];
  const m = (k) => median(r.map((x) => x[k])).toFixed(2);
  console.log(
    `${name.padEnd(8)} sign ${m('sign')}  verify ${m('verify')}  cached-verify ${m('cached')}   runs: ${r.map((x) => `${x.sign.toFixed(1)}/${x.verify.toFixed(1)}/${x.cached.toFixed(2)}`).join(' ')}`,
  );
}
