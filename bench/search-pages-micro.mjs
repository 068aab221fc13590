// What a continued AuthZEN search page (one with `page.token`) costs on top of a first page, piece by piece,
// outside the server: the body rules (JSON.parse + jsonStructureFault, libs/http), the request schema (ajv),
// and the page token (libs/api/src/access-search-tokens.ts: where the page resumes and its next_token). Run
// after `npm run build`:
// node bench/search-pages-micro.mjs
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
const { MAX_JSON_DEPTH, jsonStructureFault } = require('../libs/http/dist/duplicate-keys.js');
const { SchemaCompiler } = require('../libs/http/dist/schema-compiler.js');
const { freeValueTest } = require('../libs/http/dist/free-values.js');
const { KeyedDigest } = require('../libs/application/dist/index.js');
const tokens = require('../libs/api/dist/access-search-tokens.js');
const { resourceSearchRequest } = require('../libs/api/dist/access-search-schemas.js');

const key = randomBytes(32);
const digest = new KeyedDigest({ ensureDataKey: async () => key }, 'system:page-cursor-key');
const body = (token) => ({
  subject: { type: 'user', id: 'usr_01jd5x8k2m3n4p5q6r7s8t9v0w' },
  action: { name: 'orgs:read' },
  resource: { type: 'organization' },
  page: { limit: 100, ...(token ? { token } : {}) },
});
const first = body();
const lastKey = 'org_01jd5x8k2m3n4p5q6r7s8t9v0x';
const token = tokens.searchPageTokens
  ? (await tokens.searchPageTokens(digest, 'searchResources', first, 100)).bind(lastKey)
  : await tokens.bindSearchToken(digest, 'searchResources', first, 100, lastKey);
const continued = body(token);
const texts = { first: JSON.stringify(first), continued: JSON.stringify(continued) };
// The route `ignoresFreeValues`: the body rules ask this test of every string and number.
const free = freeValueTest(resourceSearchRequest);
const validate = new SchemaCompiler(false).compile('exact', resourceSearchRequest);

async function nsPerOp(fn, iterations = 20000) {
  for (let i = 0; i < iterations / 10; i++) await fn();
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn();
    rounds.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  return rounds.sort((a, b) => a - b)[3];
}

const pieces = {
  'JSON.parse + jsonStructureFault (free)': (which) => () => {
    JSON.parse(texts[which]);
    return jsonStructureFault(texts[which], MAX_JSON_DEPTH, free);
  },
  'ajv request schema': (which) => () => validate(JSON.parse(texts[which])),
};
if (tokens.openSearchToken)
  // the form before commit "one identity per search page"
  pieces['token: open + bind (next page)'] = (which) => async () => {
    const b = which === 'first' ? first : continued;
    const after = await tokens.openSearchToken(digest, 'searchResources', b, 100);
    return tokens.bindSearchToken(digest, 'searchResources', b, 100, after + 'z');
  };
if (tokens.searchPageTokens)
  // the one-identity form, when built
  pieces['token: searchPageTokens (next page)'] = (which) => async () => {
    const b = which === 'first' ? first : continued;
    const t = await tokens.searchPageTokens(digest, 'searchResources', b, 100);
    return t.bind(t.after + 'z');
  };
console.log(`bodies: first ${texts.first.length} B, continued ${texts.continued.length} B`);
for (const [name, make] of Object.entries(pieces)) {
  const a = await nsPerOp(make('first'));
  const b = await nsPerOp(make('continued'));
  console.log(
    `${name.padEnd(40)} first ${(a / 1000).toFixed(2)} us, continued ${(b / 1000).toFixed(2)} us, +${((b - a) / 1000).toFixed(2)} us`,
  );
}
