import { documentAgreement, type DocumentAgreement } from './test-support/document-agreement';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * The AuthZEN routes answer as their OpenAPI document says (contract section 9; what scripts/schemathesis.sh
 * checks by fuzzing): each body below is checked against the request schema of the document the running app
 * serves, and the server must accept what the schema accepts and refuse (400) what it refuses. The one
 * documented exception: a `page.token` of the right shape that the server did not issue (contract 9.1).
 */
let app: TestApp;
let orgId: string;
let adminId: string;
let agreement: DocumentAgreement;

beforeAll(async () => {
  app = await startTestApp();
  orgId = (await createOrg(app, 'Document agreement')).id;
  adminId = (await app.call('GET', '/api/v1/users/me')).body.id;
  agreement = await documentAgreement(app);
});
afterAll(() => app.close());

const expectAgreement = (path: string, text: string, accepted: boolean) =>
  agreement.expectAgreement('POST', path, text, accepted);
const both = (path: string, text: string) => agreement.both('POST', path, text);

const subject = () => `{"type": "user", "id": "${adminId}"}`;
const resource = () => `{"type": "organization", "id": "${orgId}"}`;

describe('the AuthZEN request schemas say what the server accepts', () => {
  it('POST /access/v1/evaluations: a subject, action and resource for every evaluation, own or default', async () => {
    const action = '{"name": "orgs:read"}';
    await expectAgreement('/access/v1/evaluations', '{}', false);
    await expectAgreement('/access/v1/evaluations', '{"evaluations": []}', false);
    await expectAgreement('/access/v1/evaluations', `{"subject": ${subject()}, "action": ${action}}`, false);
    await expectAgreement(
      '/access/v1/evaluations',
      `{"subject": ${subject()}, "evaluations": [{"resource": ${resource()}}]}`,
      false,
    );
    await expectAgreement(
      '/access/v1/evaluations',
      `{"subject": ${subject()}, "action": ${action}, "resource": ${resource()}, "evaluations": []}`,
      true,
    );
    await expectAgreement(
      '/access/v1/evaluations',
      `{"subject": ${subject()}, "action": ${action}, "evaluations": [{"resource": ${resource()}}]}`,
      true,
    );
    await expectAgreement(
      '/access/v1/evaluations',
      `{"evaluations": [{"subject": ${subject()}, "action": ${action}, "resource": ${resource()}}]}`,
      true,
    );
  });

  it('what AuthZEN ignores may hold any JSON: numbers beyond 2^53, U+0000 (in names and values)', async () => {
    // Raw JSON: 9007199254740993 and 1e400 do not survive JSON.stringify.
    const free =
      '"properties": {"snowflake": 9007199254740993, "huge": 1e400, "nul\\u0000name": "nul\\u0000value", "deep": [{"n": -1e400}]}';
    const extra = '"unknown_member": {"n": 18446744073709551615, "s": "\\u0000"}, "\\u0000": 1e309';
    const context = '{"trace": 12345678901234567890, "note": "\\u0000"}';
    const withFree = (entity: string) => entity.replace(/}$/, `, ${free}}`);
    await expectAgreement(
      '/access/v1/evaluation',
      `{"subject": ${withFree(subject())}, "action": {"name": "orgs:read", ${free}}, "resource": ${withFree(resource())}, "context": ${context}, ${extra}}`,
      true,
    );
    await expectAgreement(
      '/access/v1/evaluations',
      `{"subject": ${withFree(subject())}, "action": {"name": "orgs:read"}, "evaluations": [{"resource": ${withFree(resource())}, "context": ${context}, ${extra}}], "options": {${extra}}, ${extra}}`,
      true,
    );
    await expectAgreement(
      '/access/v1/search/action',
      `{"subject": ${withFree(subject())}, "resource": ${withFree(resource())}, "context": ${context}, "page": {${extra}}, ${extra}}`,
      true,
    );
    await expectAgreement(
      '/access/v1/search/resource',
      `{"subject": ${withFree(subject())}, "action": {"name": "orgs:read", ${free}}, "resource": {"type": "organization", ${free}}, "context": ${context}, "page": {"limit": 5, ${free}}, ${extra}}`,
      true,
    );
    await expectAgreement(
      '/access/v1/search/subject',
      `{"subject": {"type": "user", ${free}}, "action": {"name": "orgs:read"}, "resource": ${withFree(resource())}, "context": ${context}, ${extra}}`,
      true,
    );
  });

  it('what Arbor reads keeps the body rules, and the schema says so', async () => {
    // Beyond 2^53 where a number is read: the schema's bounds refuse it too.
    await expectAgreement(
      '/access/v1/search/resource',
      `{"subject": ${subject()}, "action": {"name": "orgs:read"}, "resource": {"type": "organization"}, "page": {"limit": 9007199254740993}}`,
      false,
    );
    await expectAgreement(
      '/access/v1/evaluation',
      `{"subject": ${subject()}, "action": {"name": "orgs:read"}, "resource": ${resource()}, "context": {"min_position": 1e400}}`,
      false,
    );
    // U+0000 in a string Arbor reads (or is told it may read): refused, and the pattern says so.
    await expectAgreement(
      '/access/v1/evaluation',
      `{"subject": {"type": "user", "id": "usr_\\u0000"}, "action": {"name": "orgs:read"}, "resource": ${resource()}}`,
      false,
    );
    await expectAgreement(
      '/access/v1/evaluation',
      `{"subject": ${subject()}, "action": {"name": "orgs:\\u0000"}, "resource": ${resource()}}`,
      false,
    );
    await expectAgreement(
      '/access/v1/search/subject',
      `{"subject": {"type": "user", "id": "\\u0000"}, "action": {"name": "orgs:read"}, "resource": ${resource()}}`,
      false,
    );
  });

  it('page.token: a string of another shape is refused by the schema; one of the right shape not issued, by the server', async () => {
    const search = (token: string) =>
      `{"subject": ${subject()}, "action": {"name": "orgs:read"}, "resource": {"type": "organization"}, "page": {"token": ${JSON.stringify(token)}}}`;
    for (const token of ['0', 'not a token', 'abc.def', 'a.b.c', `x.${'A'.repeat(23)}`])
      await expectAgreement('/access/v1/search/resource', search(token), false);
    // The documented exception (contract 9.1): the shape is right, the tag is not the server's.
    const forged = await both('/access/v1/search/resource', search(`b3JnXzAx.${'A'.repeat(22)}`));
    expect(forged).toMatchObject({ schemaValid: true, status: 400 });
    expect(forged.body.errors).toEqual([{ path: '/body/page/token', message: expect.any(String) }]);
  });
});
