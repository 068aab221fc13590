import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { addNewUser, createClient, unique } from '../../apps/standalone/src/test-support/access-fixtures';
import { type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import { createOrg, type TestApp, startStackTestApp } from '../../apps/standalone/src/test-support/test-app';

/**
 * What an internal service subscribed to the Kafka topic receives (contract section 8): every event the event API
 * serves (at least once: a redelivery would repeat an id), as a CloudEvent 1.0 in binary content mode (`ce_` headers) whose data is the event envelope, and
 * valid against the envelope schema that `GET /api/v1/events/schemas` (and docs/events/schemas) publishes.
 */
let app: TestApp;
let stack: DistributedStack;
/** The issuer startStackTestApp gives the stack: the command service's CloudEvents source. */
const ISSUER = 'http://arbor.test';

beforeAll(async () => {
  ({ app, stack } = await startStackTestApp('arbor-cloudevents-'));
}, 60_000);
afterAll(() => app.close());

const text = (headers: IHeaders | undefined, name: string): string | undefined => headers?.[name]?.toString();

it('a subscriber gets every event as a CloudEvent whose data is the envelope, valid against its published schema', async () => {
  // A bit of everything: organizations, a user and a membership, a role, client credentials, removals.
  const root = await createOrg(app, unique('CloudEvents'));
  const child = await createOrg(app, unique('Child'), root.id);
  const user = await addNewUser(app, child.id, ['member'], 'subscriber');
  // The response's text rides along, so that a failure shows why.
  const expectOk = async (status: number, res: Promise<{ status: number; text: string }>) => {
    const { status: got, text: body } = await res;
    expect([got, body]).toEqual([status, expect.any(String)]);
  };
  await expectOk(
    200,
    app.call('PATCH', `/api/v1/orgs/${child.id}/users/${user.userId}`, { body: { roles: ['admin'] } }),
  );
  await expectOk(
    201,
    app.call('POST', `/api/v1/orgs/${root.id}/roles`, {
      body: { name: unique('Auditor'), permissions: ['orgs:read'], appliesTo: 'subtree' },
    }),
  );
  const client = await createClient(app, root.id, ['orgs:read']);
  await expectOk(204, app.call('DELETE', `/api/v1/oauth2/client-credentials/${client.id}`));
  await expectOk(204, app.call('DELETE', `/api/v1/orgs/${child.id}/users/${user.userId}`));

  const served: Array<Record<string, any>> = [];
  let withAudit = 0;
  for (let after = 0; ;) {
    const page = await app.call('GET', `/api/v1/events?after=${after}&limit=200`);
    expect(page.status).toBe(200);
    // The topic carries the envelope only: the audit data platform admins read beside it (request metadata, which
    // retention must be able to drop, and the changes derived from the log) is not published (contract section 8).
    for (const { audit, ...envelope } of page.body.items) {
      if (audit !== undefined) withAudit++;
      served.push(envelope);
    }
    if (page.body.nextCursor === null) break;
    after = served[served.length - 1].position;
  }
  expect(withAudit).toBeGreaterThan(0);
  const types = new Set(served.map((e) => e.type));
  for (const t of ['OrgCreated', 'UserCreated', 'UserAddedToOrg', 'OrgUserUpdated', 'RoleDefined'])
    expect(types).toContain(t);
  for (const t of ['ClientCredentialIssued', 'ClientCredentialRevoked', 'UserRemovedFromOrg'])
    expect(types).toContain(t);

  // The schemas, as a subscriber without an API token fetches them.
  const schemas = await app.call('GET', '/api/v1/events/schemas', { token: null });
  expect(schemas.status).toBe(200);
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
  for (const item of schemas.body.items) ajv.addSchema(item.dataSchema);
  const envelopes = new Map<string, { validate: ValidateFunction; id: string; ceType: string }>(
    schemas.body.items.map((item: any) => [
      item.type,
      { validate: ajv.compile(item.envelopeSchema), id: item.envelopeSchema.$id, ceType: item.cloudEventType },
    ]),
  );

  // The topic from its beginning, as a plain Kafka consumer reads it.
  const kafka = new Kafka({ brokers: stack.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: unique('cloudevents-test') });
  const received = new Map<string, { headers: IHeaders | undefined; value: any }>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [stack.env.IAM_KAFKA_TOPIC], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(message.value!.toString());
        received.set(value.id, { headers: message.headers, value });
      },
    });
    for (let i = 0; i < 300 && received.size < served.length; i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await consumer.disconnect();
  }
  expect(received.size).toBe(served.length);

  for (const event of served) {
    const message = received.get(event.id)!;
    const schema = envelopes.get(event.type)!;
    const h = message.headers;
    expect([event.type, message.value]).toEqual([event.type, event]);
    expect([event.type, schema.validate(message.value), schema.validate.errors ?? null]).toEqual([
      event.type,
      true,
      null,
    ]);
    expect({
      specversion: text(h, 'ce_specversion'),
      id: text(h, 'ce_id'),
      source: text(h, 'ce_source'),
      type: text(h, 'ce_type'),
      time: text(h, 'ce_time'),
      subject: text(h, 'ce_subject'),
      dataschema: text(h, 'ce_dataschema'),
      datacontenttype: text(h, 'content-type'),
    }).toEqual({
      specversion: '1.0',
      id: event.id,
      source: ISSUER,
      type: schema.ceType,
      time: event.occurredAt,
      subject: event.streamId,
      dataschema: schema.id,
      datacontenttype: 'application/json',
    });
  }
}, 120_000);
