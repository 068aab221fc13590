import { documentAgreement, type DocumentAgreement } from './test-support/document-agreement';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * An organization's `metadata` (contract section 5) is kept as sent, so section 1's body rules apply inside it
 * (numbers within ±(2^53 − 1), no U+0000 in strings or member names); the OpenAPI document says so, and the
 * server accepts exactly what the document's request schema accepts (found by scripts/schemathesis.sh: a
 * schema-valid `metadata` with 1.8e308 in it was refused).
 */
let app: TestApp;
let agreement: DocumentAgreement;
let parentId: string;

beforeAll(async () => {
  app = await startTestApp();
  agreement = await documentAgreement(app);
  parentId = (await createOrg(app, 'Metadata root')).id;
});
afterAll(() => app.close());

let n = 0;
const create = (metadata: string) => `{"name": "Metadata ${++n}", "parentId": "${parentId}", "metadata": ${metadata}}`;

it('metadata Arbor keeps exactly is accepted, by the schema and the server', async () => {
  await agreement.expectAgreement(
    'POST',
    '/api/v1/orgs',
    create(
      '{"max": 9007199254740991, "min": -9007199254740991, "f": 1.5, "e": 1e-300, "nested": {"a": [1, "s", null, true, {}]}}',
    ),
    true,
  );
});

it('metadata Arbor could not keep exactly is refused, by the schema and the server', async () => {
  for (const metadata of [
    '{"id": 9007199254740993}',
    '{"big": [[{}, 1.7976931348623157e+308]]}',
    '{"a": [{"b": "x\\u0000"}]}',
    '{"\\u0000": 1}',
    '{"deep": {"\\u0000name": true}}',
  ])
    await agreement.expectAgreement('POST', '/api/v1/orgs', create(metadata), false);
});

it('PUT takes the same metadata rules', async () => {
  const org = await createOrg(app, 'Metadata put', parentId);
  const put = (metadata: string) => `{"name": "Metadata put", "parentId": "${parentId}", "metadata": ${metadata}}`;
  const path = `/api/v1/orgs/${org.id}`;
  await agreement.expectAgreement('PUT', path, put('{"n": -1e300}'), false, '/api/v1/orgs/{orgId}');
  await agreement.expectAgreement('PUT', path, put('{"n": 42}'), true, '/api/v1/orgs/{orgId}');
});
