import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  type Logger,
} from '@arbor/application';
import { newId } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault, type SqliteEventStore } from '@arbor/sqlite';

const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/*
 * CommandContext.deadline: a gateway gives up on a command after its timeout and answers that it may have been
 * applied; a command that reaches its write only after that must not be written, or a client's retry (without an
 * Idempotency-Key) would apply it twice. Driven on the command service directly, as the internal API calls it.
 */
describe('CommandService and the caller’s deadline', () => {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  let commands: CommandService;
  let store: SqliteEventStore;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-deadline-'));
    store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
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

  it('writes nothing once the deadline has passed, and says the command was not applied', async () => {
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
