import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  type Command,
  PasswordHasher,
  PersonalDataCipher,
  type Logger,
  type Principal,
} from '@arbor/application';
import { PERMISSIONS, newId, type Permission } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault, type SqliteEventStore } from '@arbor/sqlite';

/** One hasher for the file; its threads end with it. */
const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/*
 * The command service authorizes every command itself (issue 10, item 6), against the model it decides on:
 * whatever transport brings a command (the embedded routes, the internal API, a future one), it runs only
 * what its principal may do. Here the command service is driven directly, with no route in front of it.
 */
describe('CommandService authorization', () => {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  let commands: CommandService;
  let vault: ReturnType<typeof openSqliteSecretVault>;
  let store: SqliteEventStore;
  const all = new Set<Permission>(PERMISSIONS);
  const user = (id: string, platformAdmin = false): Principal => ({
    type: 'user',
    id,
    platformAdmin,
    scopes: all,
    tokenId: newId('jti'),
  });
  const admin = user('usr_platform', true);

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-authz-'));
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
  });

  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'applied',
      (e: { code?: string }) => e.code,
    );
  const createOrg = async (principal: Principal | 'system', parentId: string | null) => {
    const orgId = newId('org');
    await commands.execute({ type: 'CreateOrg', orgId, name: orgId, parentId }, { principal });
    return orgId;
  };
  const addMember = async (orgId: string, roles: string[]) => {
    const userId = newId('usr');
    await commands.execute(
      { type: 'AddUserToOrg', orgId, roles, newUser: { userId, email: `${userId}@example.test`, name: 'n' } },
      { principal: 'system' },
    );
    return userId;
  };

  it('refuses what the principal may not do, with the same codes as the API, and records who did the rest', async () => {
    const root = await createOrg('system', null);
    const child = await createOrg('system', root);
    const memberId = await addMember(child, ['member']);
    const member = user(memberId);
    expect(
      await codeOf(commands.execute({ type: 'DeleteOrg', orgId: root, recursive: true }, { principal: member })),
    ).toBe('IAM_ERR_NOT_FOUND');
    expect(
      await codeOf(commands.execute({ type: 'DeleteOrg', orgId: child, recursive: true }, { principal: member })),
    ).toBe('IAM_ERR_FORBIDDEN');
    expect(await codeOf(createOrg(member, null))).toBe('IAM_ERR_FORBIDDEN');
    expect(
      await codeOf(
        commands.execute(
          { type: 'AddUserToOrg', orgId: child, roles: ['owner'], existingUserId: memberId },
          { principal: member },
        ),
      ),
    ).toBe('IAM_ERR_FORBIDDEN');
    const outcome = await commands.execute(
      { type: 'CreateOrg', orgId: newId('org'), name: 'by admin', parentId: child },
      { principal: admin },
    );
    expect(outcome.kind === 'applied' && outcome.events[0].actor).toEqual({ type: 'user', id: admin.id });
  });

  it('narrows by the token scopes, and a client acts only below its organization', async () => {
    const root = await createOrg('system', null);
    const a = await createOrg('system', root);
    const b = await createOrg('system', root);
    const ownerId = await addMember(root, ['owner']);
    const readOnly: Principal = { ...user(ownerId), scopes: new Set<Permission>(['orgs:read']) };
    expect(await codeOf(createOrg(readOnly, a))).toBe('IAM_ERR_FORBIDDEN');
    const client: Principal = { type: 'client', id: 'cc_1', clientId: 'cli_1', orgId: a, scopes: all, tokenId: 't' };
    expect(await codeOf(createOrg(client, a))).toBe('applied');
    expect(await codeOf(createOrg(client, b))).toBe('IAM_ERR_NOT_FOUND');
  });

  it('never opens a stream twice: a creation naming an id already used is a 409, and writes no secret', async () => {
    const root = await createOrg('system', null);
    const existingId = await addMember(root, ['member']);
    const elsewhere = await createOrg('system', root);
    const reuse = commands.execute(
      {
        type: 'AddUserToOrg',
        orgId: elsewhere,
        roles: ['member'],
        newUser: { userId: existingId, email: `${newId('e')}@example.test`, name: 'n', password: 'a long password' },
      },
      { principal: admin },
    );
    expect(await codeOf(reuse)).toBe('IAM_ERR_VERSION_CONFLICT');
    expect(await vault.getPasswordHash(existingId)).toBeUndefined();
    expect(
      await codeOf(
        commands.execute({ type: 'CreateOrg', orgId: root, name: 'again', parentId: null }, { principal: admin }),
      ),
    ).toBe('IAM_ERR_VERSION_CONFLICT');
    // A deleted organization's id stays used.
    const gone = await createOrg('system', root);
    await commands.execute({ type: 'DeleteOrg', orgId: gone, recursive: false }, { principal: admin });
    expect(
      await codeOf(
        commands.execute({ type: 'CreateOrg', orgId: gone, name: 'back', parentId: root }, { principal: admin }),
      ),
    ).toBe('IAM_ERR_VERSION_CONFLICT');
  });

  it('creates nothing under an id outside the grammar of its kind, for any principal, and finds nothing under one', async () => {
    const root = await createOrg('system', null);
    const email = () => `${newId('e')}@example.test`;
    const addNew = (userId: string) => ({
      type: 'AddUserToOrg' as const,
      orgId: root,
      roles: ['admin'],
      newUser: { userId, email: email(), name: 'n', password: 'a long password' },
    });
    // What a tenant admin sent the internal API: ids the public paths refuse, `me`, another namespace's names.
    for (const userId of [
      'bad id/..',
      'me',
      'arbor-first-party',
      'system:snapshot',
      newId('cli'),
      newId('org'),
      'usr_short',
    ])
      for (const principal of [admin, 'system' as const]) {
        const refused = commands.execute(addNew(userId), { principal }).catch((e: unknown) => e);
        expect(await refused).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/newUser/userId' }] });
        expect(await vault.getPasswordHash(userId)).toBeUndefined();
      }
    for (const orgId of ['org_atkdeep1800', newId('usr')])
      expect(
        await codeOf(commands.execute({ type: 'CreateOrg', orgId, name: orgId, parentId: root }, { principal: admin })),
      ).toBe('IAM_ERR_VALIDATION');
    const client = {
      type: 'IssueClientCredential' as const,
      clientCredentialId: 'cc bad/..',
      orgId: root,
      name: 'c',
      scopes: ['orgs:read'],
      secret: 'A'.repeat(43),
    };
    expect(await codeOf(commands.execute(client, { principal: admin }))).toBe('IAM_ERR_VALIDATION');
    // A well-formed id with a secret of the right shape but no variety (43 x 'A') is refused too.
    const weak = { ...client, clientCredentialId: newId('cc') };
    expect(await codeOf(commands.execute(weak, { principal: admin }))).toBe('IAM_ERR_VALIDATION');
    expect(await vault.getClientSecretHash(weak.clientCredentialId)).toBeUndefined();
    // Referring to an id of the wrong shape finds nothing (what reading it answers), before any authorization.
    expect(
      await codeOf(commands.execute({ type: 'UpdateUser', userId: 'me', status: 'disabled' }, { principal: admin })),
    ).toBe('IAM_ERR_NOT_FOUND');
    expect(
      await codeOf(
        commands.execute({ type: 'DeleteOrg', orgId: 'org_atkdeep1800', recursive: true }, { principal: admin }),
      ),
    ).toBe('IAM_ERR_NOT_FOUND');
    expect(await codeOf(commands.execute({ type: 'Unknown' } as never, { principal: admin }))).toBe(
      'IAM_ERR_VALIDATION',
    );
    expect(await codeOf(commands.execute(addNew(newId('usr')), { principal: admin }))).toBe('applied');
  });

  it('decides on the state inside the transaction: a grant committed a moment ago counts', async () => {
    const root = await createOrg('system', null);
    const userId = await addMember(root, ['member']);
    expect(await codeOf(createOrg(user(userId), root))).toBe('IAM_ERR_FORBIDDEN');
    await commands.execute({ type: 'UpdateOrgUser', orgId: root, userId, roles: ['admin'] }, { principal: admin });
    expect(await codeOf(createOrg(user(userId), root))).toBe('applied');
  });

  it("validates every command against its use case's input schema first: a string `recursive` deletes nothing", async () => {
    const root = await createOrg('system', null);
    const child = await createOrg('system', root);
    // What the internal command API may be sent: JSON whose types are not the command's.
    const loose = { type: 'DeleteOrg', orgId: root, recursive: 'false' } as unknown as Command;
    const refused = await commands.execute(loose, { principal: admin }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/recursive' }] });
    const version = {
      type: 'ReplaceOrg',
      orgId: child,
      parentId: root,
      name: 'renamed',
      expectedVersion: '1',
    } as unknown as Command;
    expect(await codeOf(commands.execute(version, { principal: admin }))).toBe('IAM_ERR_VALIDATION');
    // Both organizations stand: deleting the child without recursion still works, its name unchanged.
    expect(
      await codeOf(commands.execute({ type: 'DeleteOrg', orgId: root, recursive: false }, { principal: admin })),
    ).toBe('IAM_ERR_HAS_CHILDREN');
    expect(
      await codeOf(commands.execute({ type: 'DeleteOrg', orgId: child, recursive: false }, { principal: admin })),
    ).toBe('applied');
  });

  /*
   * CommandContext.deadline: a gateway gives up on a command after its timeout and answers that it may have been
   * applied; a command that reaches its write only after that must not be written, or a client's retry (without an
   * Idempotency-Key) would apply it twice.
   */
  it('writes nothing once the caller’s deadline has passed, and says the command was not applied', async () => {
    const head = await store.headPosition();
    const orgId = newId('org');
    const late = commands.execute(
      { type: 'CreateOrg', orgId, name: 'Too late', parentId: null },
      { principal: 'system', deadline: Date.now() - 1 },
    );
    await expect(late).rejects.toMatchObject({ code: 'IAM_ERR_UNAVAILABLE', retryAfterSeconds: 1 });
    await expect(late).rejects.toThrow(/not applied/);
    expect(await store.headPosition()).toBe(head);
  });

  it('writes a command whose deadline has not passed, and one without a deadline', async () => {
    const head = await store.headPosition();
    for (const deadline of [Date.now() + 10_000, undefined])
      await commands.execute(
        { type: 'CreateOrg', orgId: newId('org'), name: `In time ${deadline ?? 'none'}`, parentId: null },
        { principal: 'system', ...(deadline === undefined ? {} : { deadline }) },
      );
    expect(await store.headPosition()).toBe(head + 2);
  });
});
