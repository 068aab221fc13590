import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { API_VERSION, accessRoutes, apiRoutes } from './create-api-app';
import { describeApi } from './routes/openapi-route';

/*
 * The OpenAPI document as the tools that consume it see it (issue 11, item 11): @redocly/cli's recommended
 * ruleset finds neither error nor warning, and openapi-typescript emits one named type per schema.
 */
const run = promisify(execFile);
const BIN = resolve(__dirname, '../../../node_modules/.bin');
const dir = mkdtempSync(join(tmpdir(), 'arbor-openapi-'));
const doc: any = describeApi(apiRoutes(), API_VERSION, 'https://iam.example.org', accessRoutes());
const file = join(dir, 'openapi.json');
writeFileSync(file, JSON.stringify(doc));
// No usage data leaves the machine, and no update check either.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

it('passes @redocly/cli lint (recommended rules) without errors or warnings', async () => {
  const { stdout } = await run(join(BIN, 'redocly'), ['lint', file, '--format', 'json'], { env }).catch((e) => e);
  const report = JSON.parse(stdout);
  const problems = report.problems.map((p: any) => `${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
  expect(problems).toEqual([]);
  expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
}, 60_000);

it('gives openapi-typescript a named type for every schema', async () => {
  const out = join(dir, 'api.d.ts');
  await run(join(BIN, 'openapi-typescript'), [file, '-o', out], { env });
  const types = readFileSync(out, 'utf8');
  const schemas = types.slice(types.indexOf('schemas: {'), types.indexOf('responses: '));
  for (const name of Object.keys(doc.components.schemas)) expect(schemas).toMatch(new RegExp(`\\n\\s+${name}: `));
  // Operations refer to the named types rather than spelling out anonymous ones.
  expect(types).toContain('components["schemas"]["Organization"]');
  expect(types).toContain('components["schemas"]["AddOrgUserRequest"]');
}, 60_000);
