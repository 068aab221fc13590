#!/usr/bin/env node
// Writes the event catalogue's JSON Schemas into docs/events/schemas (`npm run events:schemas`, after
// `npm run build`): per event type and current version, `<Type>/v<N>.json` (its data) and
// `<Type>/v<N>.envelope.json` (the whole event), `<Type>/v<N>.audited.json` (the event with its audit data, as the
// event API serves it to platform admins), the paths of their `$id`s under https://arbor.dev/schemas/events.
// Files are written, never removed: the schema of an older version stays published for the events stored at it.
// `--check` writes nothing and exits 1 if a file differs (libs/domain's published-schemas unit test checks the same).
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const domain = require(join(root, 'libs/domain/dist/index.js'));
const check = process.argv.includes('--check');
const out = join(root, 'docs/events/schemas');

const stale = [];
for (const type of domain.EVENT_TYPES) {
  const version = domain.EVENT_CATALOGUE[type].version;
  const files = {
    [`${type}/v${version}.json`]: domain.eventDataSchemaOf(type),
    [`${type}/v${version}.envelope.json`]: domain.eventEnvelopeSchemaOf(type),
    [`${type}/v${version}.audited.json`]: domain.eventAuditedEnvelopeSchemaOf(type),
  };
  for (const [name, schema] of Object.entries(files)) {
    const path = join(out, name);
    const text = `${JSON.stringify(schema, null, 2)}\n`;
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    stale.push(name);
    if (!check) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  }
}
if (check && stale.length > 0) {
  console.error(`docs/events/schemas is out of date (npm run events:schemas): ${stale.join(', ')}`);
  process.exit(1);
}
console.log(check ? 'docs/events/schemas is current' : `wrote ${stale.length} schema file(s) to docs/events/schemas`);
