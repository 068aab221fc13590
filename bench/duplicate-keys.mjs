// What refusing duplicate JSON member names and too deep nesting costs per request body (contract section 1):
// JSON.parse alone (before) against JSON.parse plus the scan of libs/http/src/duplicate-keys.ts (after), on a
// typical small body and a 4 KiB one. Run after `npm run build`: node bench/duplicate-keys.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { jsonStructureFault } = require('../libs/http/dist/duplicate-keys.js');

// About 200 bytes: an organization with a little metadata, or a JSON token request.
const small = JSON.stringify({
  name: 'Acme Robotics EMEA',
  parentId: 'org_01jd5x8k2m3n4p5q6r7s8t9v0w',
  description: 'Sales, support and field service for Europe',
  metadata: { region: 'eu-west', tier: 'gold', costCenter: 'CC-4711' },
});
const metadata = {};
for (let i = 0; JSON.stringify(metadata).length < 3900; i++) metadata[`key${i}`] = `value number ${i} of the sample`;
const large = JSON.stringify({
  name: 'Acme Robotics EMEA',
  parentId: 'org_01jd5x8k2m3n4p5q6r7s8t9v0w',
  description: 'x'.repeat(40),
  metadata,
});

function nsPerOp(fn, text, iterations) {
  for (let i = 0; i < iterations / 10; i++) fn(text); // warm-up
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(text);
    rounds.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  return rounds.sort((a, b) => a - b)[3]; // median of 7 rounds
}

const before = (text) => JSON.parse(text);
const after = (text) => {
  const value = JSON.parse(text);
  if (jsonStructureFault(text) !== undefined) throw new Error('unexpected fault');
  return value;
};

for (const [label, text, iterations] of [
  ['small', small, 200_000],
  ['4 KiB', large, 20_000],
]) {
  const b = nsPerOp(before, text, iterations);
  const a = nsPerOp(after, text, iterations);
  console.log(
    `${label.padEnd(6)} ${String(Buffer.byteLength(text)).padStart(5)} B  JSON.parse ${(b / 1000).toFixed(2)} µs  + duplicate scan ${(a / 1000).toFixed(2)} µs  (+${((a - b) / 1000).toFixed(2)} µs)`,
  );
}
