import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  type CommandModelSnapshot,
  type CommandModelSnapshotStore,
  type Logger,
} from '@arbor/application';
import { newId } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault } from '@arbor/sqlite';

/** One hasher for the file; its threads end with it. */
const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/** When the command service writes snapshots while it runs: after a quiet second, or at once when far behind. */
describe('CommandService snapshot timing', () => {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function setUp(snapshotEvery: number) {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-snapshots-'));
    const store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    const saved: number[] = [];
    const snapshots: CommandModelSnapshotStore = {
      load: async () => undefined,
      save: async (s: CommandModelSnapshot) => void saved.push(s.position),
      discard: async () => undefined,
    };
    const commands = new CommandService({
      store,
      bus: new InProcessBus(),
      vault,
      cipher: new PersonalDataCipher(vault),
      hasher,
      secrets: new ClientSecretHasher(vault),
      log: quiet,
      snapshots,
      snapshotEvery,
    });
    await commands.start();
    const create = () =>
      commands.execute(
        { type: 'CreateOrg', orgId: newId('org'), name: newId('n'), parentId: null },
        { principal: 'system' },
      );
    return { saved, create, close: async () => (await commands.close(), await store.close(), await vault.close()) };
  }

  it('waits for a quiet second once due, then writes one', async () => {
    const { saved, create, close } = await setUp(3);
    try {
      for (let i = 0; i < 4; i++) await create();
      await sleep(300);
      expect(saved).toEqual([]);
      await create(); // more traffic pushes it back
      await sleep(1300);
      expect(saved).toEqual([5]);
    } finally {
      await close();
    }
  });

  it('writes at once when five intervals behind, and a last one on close', async () => {
    const { saved, create, close } = await setUp(3);
    for (let i = 0; i < 15; i++) await create();
    await sleep(100);
    expect(saved).toEqual([15]);
    await create();
    await close();
    expect(saved).toEqual([15, 16]);
  });
});
