import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  SealedSnapshotFile,
  type Command,
  type Logger,
} from '@arbor/application';
import { newId, type StoredEvent } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault } from '@arbor/sqlite';

/** One hasher for the file; its threads end with it. */
const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/**
 * The command model and its snapshot hold no personal data in clear (users as the log position of their
 * sealed record and a keyed digest of their email), so erasing a user by destroying their key needs nothing
 * else: their email frees up, also after a warm start from a snapshot taken before. A snapshot of the old
 * format (opened emails and names) is refused with a log line and the log is folded instead.
 */
describe('command model at rest', () => {
  const actor = { principal: 'system' as const };
  const YSOLDE = { email: 'Ysolde.Varnaby@model.test', name: 'Ysolde Varnaby' };
  const ORRIN = { email: 'orrin.kettleworth@model.test', name: 'Orrin Kettleworth' };

  function open(dir: string) {
    const store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    const snapshots = new SealedSnapshotFile(join(dir, 'command-model.snapshot'), vault);
    const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const push = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, fields });
    const log: Logger = { info: push, warn: push, error: push };
    const cipher = new PersonalDataCipher(vault);
    const commands = new CommandService({
      store,
      bus: new InProcessBus(),
      vault,
      cipher,
      hasher,
      secrets: new ClientSecretHasher(vault),
      log,
      snapshots,
    });
    const run = async (command: Command): Promise<StoredEvent[]> => {
      const outcome = await commands.execute(command, actor);
      if (outcome.kind !== 'applied') throw new Error('not applied');
      return outcome.events;
    };
    const addUser = (orgId: string, person: { email: string; name: string }) =>
      run({
        type: 'AddUserToOrg',
        orgId,
        roles: ['member'],
        newUser: { userId: newId('usr'), email: person.email, name: person.name },
      });
    const rename = (orgId: string, userId: string, name: string) => run({ type: 'UpdateOrgUser', orgId, userId, name });
    const close = async () => {
      await commands.close();
      await store.close();
      await vault.close();
    };
    return {
      store,
      vault,
      snapshots,
      lines,
      cipher,
      commands,
      run,
      addUser,
      rename,
      close,
      ready: () => lines.find((l) => l.message === 'command model ready')?.fields,
    };
  }

  async function seeded() {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-model-at-rest-'));
    const first = open(dir);
    await first.commands.start();
    const orgA = newId('org');
    const orgB = newId('org');
    await first.run({ type: 'CreateOrg', orgId: orgA, name: 'Model A', parentId: null });
    await first.run({ type: 'CreateOrg', orgId: orgB, name: 'Model B', parentId: null });
    const ysolde = (await first.addUser(orgA, YSOLDE))[0].data as { userId: string };
    await first.addUser(orgA, ORRIN);
    await first.rename(orgA, ysolde.userId, 'Ysolde Varnaby-Quill');
    await first.close();
    return { dir, orgA, orgB, ysoldeId: ysolde.userId };
  }

  it('writes snapshots without personal data, and restores every user rule from one', async () => {
    const { dir, orgA, orgB, ysoldeId } = await seeded();
    const again = open(dir);
    const snapshot = JSON.stringify(await again.snapshots.load());
    for (const clear of [YSOLDE.email, YSOLDE.email.toLowerCase(), YSOLDE.name, 'Varnaby', ORRIN.email, ORRIN.name])
      expect(snapshot).not.toContain(clear);
    await again.commands.start();
    try {
      expect(again.ready()).toMatchObject({ eventsFolded: 0 });
      // The email index came back: the same address in another case names the same user.
      await expect(
        again.addUser(orgB, { email: 'YSOLDE.varnaby@MODEL.test', name: 'Someone Else' }),
      ).rejects.toMatchObject({
        code: 'IAM_ERR_EMAIL_TAKEN',
        message: expect.stringContaining(ysoldeId),
      });
      // A rename opens the current record from the log: the same name decides nothing, a new one re-seals.
      expect(await again.rename(orgA, ysoldeId, 'Ysolde Varnaby-Quill')).toEqual([]);
      const [renamed] = await again.rename(orgA, ysoldeId, 'Ysolde Quill');
      expect(await again.cipher.open(ysoldeId, (renamed.data as { personal: string }).personal)).toEqual({
        email: YSOLDE.email,
        name: 'Ysolde Quill',
      });
    } finally {
      await again.close();
    }
  });

  it("frees an erased user's email after a warm start from a snapshot taken before the erasure", async () => {
    const { dir, orgA, orgB, ysoldeId } = await seeded();
    const erasing = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    await erasing.destroyDataKey(ysoldeId);
    await erasing.close();

    const again = open(dir);
    await again.commands.start();
    try {
      expect(again.ready()).toMatchObject({ eventsFolded: 0 });
      await expect(again.rename(orgA, ysoldeId, 'Back Again')).rejects.toMatchObject({ code: 'IAM_ERR_NOT_FOUND' });
      const events = await again.addUser(orgB, { email: YSOLDE.email.toUpperCase(), name: 'A New Ysolde' });
      expect(events.map((e) => e.type)).toEqual(['UserCreated', 'UserAddedToOrg']);
      expect((events[0].data as { userId: string }).userId).not.toBe(ysoldeId);
      await expect(
        again.run({ type: 'AddUserToOrg', orgId: orgB, roles: ['member'], existingUserId: ysoldeId }),
      ).rejects.toMatchObject({ code: 'IAM_ERR_NOT_FOUND' });
    } finally {
      await again.close();
    }
  });

  it('refuses a snapshot of the old format with a log line, removes it, and folds the log', async () => {
    const { dir, orgB } = await seeded();
    const old = open(dir);
    const current = (await old.snapshots.load())!;
    await old.snapshots.save({ ...current, format: 'arbor-command-model/3' as typeof current.format });
    await old.commands.start();
    try {
      const refused = old.lines.find((l) => l.message === 'command-model snapshot unreadable; folding the whole log');
      expect(String(refused?.fields?.error)).toContain('arbor-command-model/3');
      expect(old.ready()).toMatchObject({ fromSnapshot: null, eventsFolded: current.position });
      expect(existsSync(join(dir, 'command-model.snapshot'))).toBe(false);
      // Folded from the log, the model keeps the rules: the email is taken.
      await expect(old.addUser(orgB, YSOLDE)).rejects.toMatchObject({ code: 'IAM_ERR_EMAIL_TAKEN' });
    } finally {
      await old.close();
    }
    const reopened = open(dir);
    expect((await reopened.snapshots.load())?.format).toBe('arbor-command-model/8');
    await reopened.vault.close();
    await reopened.store.close();
  });
});
