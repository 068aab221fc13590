import Ajv2020 from 'ajv/dist/2020';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  startExpiryPurge,
  verifyEventLog,
  type EventStore,
  type Logger,
  type Principal,
  type TokenStore,
} from '@arbor/application';
import { EVENT_CATALOGUE, PERMISSIONS, SERVER_AUDIT_RETENTION_STREAM, newId, type Permission } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault } from '@arbor/sqlite';

/** One hasher for the file; its threads end with it. */
const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/*
 * Issue 14, tamper evidence of request metadata: the retention purge records each drop through the command service,
 * as the system (RecordRequestMetadataDrop: RequestMetadataDropped), before it makes it, so the verifier accepts the
 * metadata it nulls; metadata nulled behind the server's back is named (`metadata`). The real command service, purge
 * and verifier over SQLite (the stores' parts run on PostgreSQL too: libs/testing event-chain conformance).
 */
describe('retention drops recorded by the purge through the command service', () => {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const tokenStore = { purgeExpired: async () => undefined } as unknown as TokenStore;
  let dir: string;
  let store: EventStore & { close(): Promise<void> };
  let vault: ReturnType<typeof openSqliteSecretVault>;
  let commands: CommandService;
  let admin: Principal;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-metadata-drop-'));
    store = openSqliteEventStore(join(dir, 'events.sqlite'));
    vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    commands = new CommandService({
      store,
      bus: new InProcessBus(),
      vault,
      cipher: new PersonalDataCipher(vault),
      hasher,
      secrets: new ClientSecretHasher(vault),
      log: quiet,
    });
    await commands.start();
    const orgId = newId('org');
    await commands.execute({ type: 'CreateOrg', orgId, name: 'Home', parentId: null }, { principal: 'system' });
    const userId = newId('usr');
    await commands.execute(
      { type: 'AddUserToOrg', orgId, roles: ['admin'], newUser: { userId, email: 'a@example.test', name: 'A' } },
      { principal: 'system' },
    );
    admin = { type: 'user', id: userId, platformAdmin: true, scopes: new Set<Permission>(PERMISSIONS), tokenId: 'j' };
  });
  afterAll(async () => {
    await store.close();
    vault.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  const request = (n: number) => ({
    request: { requestId: `req-${n}`, sourceAddress: '203.0.113.7', userAgent: 'ua' },
  });
  const createOrg = async (n: number) => {
    const orgId = newId('org');
    await commands.execute(
      { type: 'CreateOrg', orgId, name: `Org ${n}`, parentId: null },
      { principal: admin, ...request(n) },
    );
    return (await store.readStream(`org-${orgId}`))[0];
  };
  /** One purge round as of `days` from now, its drops recorded through the command service as the system. */
  const purgeRound = async (days: number) => {
    const recorded: Array<[string, string | null]> = [];
    startExpiryPurge({
      eventStore: store,
      tokenStore,
      log: quiet,
      auditRetentionDays: 1,
      now: () => Date.now() + days * 86_400_000,
      recordDrop: async (before, orgId) => {
        recorded.push([before, orgId]);
        await commands.execute({ type: 'RecordRequestMetadataDrop', before, orgId }, { principal: 'system' });
      },
    }).stop();
    // The round runs in the background: until its recorded drops are made (or a moment for one with none).
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      if (recorded.length > 0 && !(await store.hasRequestMetadataBefore(recorded[recorded.length - 1][0]))) break;
    }
    return recorded;
  };

  it('refuses RecordRequestMetadataDrop to every caller, and a cutoff that is not an instant to the system', async () => {
    const before = new Date().toISOString();
    await expect(
      commands.execute({ type: 'RecordRequestMetadataDrop', before, orgId: null }, { principal: admin }),
    ).rejects.toMatchObject({ code: 'IAM_ERR_FORBIDDEN' });
    await expect(
      commands.execute(
        { type: 'RecordRequestMetadataDrop', before: 'yesterday', orgId: null },
        { principal: 'system' },
      ),
    ).rejects.toMatchObject({ code: 'IAM_ERR_VALIDATION' });
  });

  it('records the drop before it makes it, only when it changes something; the log then verifies', async () => {
    const old = await createOrg(1);
    expect(old.requestMetadata).toBeDefined();
    const recorded = await purgeRound(2);
    expect(recorded).toEqual([[expect.any(String), null]]);
    expect((await store.readStream(old.streamId))[0].requestMetadata).toBe(null);
    const drops = await store.readStream(SERVER_AUDIT_RETENTION_STREAM);
    expect(drops).toMatchObject([
      { type: 'RequestMetadataDropped', actor: { type: 'system' }, orgPath: [], data: { before: recorded[0][0] } },
    ]);
    expect(drops[0].position).toBeGreaterThan(old.position);
    const validate = new Ajv2020({ strict: true }).compile(EVENT_CATALOGUE.RequestMetadataDropped.schema);
    expect([validate(drops[0].data), validate.errors]).toEqual([true, null]);
    expect(await verifyEventLog(store)).toMatchObject({ valid: true });
    // Nothing left to drop: nothing recorded.
    expect(await purgeRound(2)).toEqual([]);
    expect(await store.readStream(SERVER_AUDIT_RETENTION_STREAM)).toHaveLength(1);
  });

  it('names metadata nulled behind the server, which no recorded drop covers', async () => {
    const recent = await createOrg(2);
    await createOrg(3);
    const raw = new Database(join(dir, 'events.sqlite'));
    try {
      raw.prepare('UPDATE events SET request_metadata = NULL WHERE position = ?').run(recent.position);
    } finally {
      raw.close();
    }
    expect(await verifyEventLog(store)).toMatchObject({
      valid: false,
      firstBreak: { kind: 'metadata', position: recent.position, eventId: recent.id },
    });
  });
});
