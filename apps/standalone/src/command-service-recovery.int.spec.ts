import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  SealedSnapshotFile,
  type CommandContext,
  type EventStore,
  type Logger,
} from '@arbor/application';
import { newId } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault } from '@arbor/sqlite';

/** One hasher for the file; its threads end with it. */
const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/**
 * A command whose transaction fails after its events went into the command model (here: saving its
 * idempotency key) must leave no trace: the model is rebuilt from committed state, from the snapshot when
 * there is one, so the name it tried to take stays free and the next commands decide on the real log.
 */
describe('CommandService after a failed transaction', () => {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  async function setUp() {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-recovery-'));
    const store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    let failIdempotency = false;
    // The real store, with one hook: saving an idempotency record can be made to fail, after the appends.
    const flaky: EventStore = Object.assign(Object.create(store) as EventStore, {
      transaction: <T>(work: Parameters<EventStore['transaction']>[0]) =>
        store.transaction((tx) =>
          work(
            Object.assign(Object.create(tx), {
              saveIdempotency: async (record: Parameters<typeof tx.saveIdempotency>[0]) => {
                if (failIdempotency) throw new Error('disk full');
                return tx.saveIdempotency(record);
              },
            }),
          ),
        ) as Promise<T>,
    });
    const snapshots = new SealedSnapshotFile(join(dir, 'command-model.snapshot'), vault);
    const deps = {
      store: flaky,
      bus: new InProcessBus(),
      vault,
      cipher: new PersonalDataCipher(vault),
      hasher,
      secrets: new ClientSecretHasher(vault),
      log: quiet,
      snapshots,
    };
    return { store, vault, deps, failNext: (on: boolean) => (failIdempotency = on) };
  }

  const create = (commands: CommandService, name: string, parentId: string | null, idempotent = false) => {
    const context: CommandContext = { principal: 'system' };
    if (idempotent)
      context.idempotency = {
        scope: 's',
        key: newId('k'),
        requestHash: 'h',
        provisionalResponse: { status: 201, headers: {}, body: {} },
      };
    return commands.execute({ type: 'CreateOrg', orgId: newId('org'), name, parentId }, context);
  };

  it.each([false, true])('forgets the events of the failed command (snapshot at start: %s)', async (withSnapshot) => {
    const { store, vault, deps, failNext } = await setUp();
    try {
      const first = new CommandService(deps);
      await first.start();
      const root = await create(first, 'Root', null);
      expect(root.kind).toBe('applied');
      const rootId = root.kind === 'applied' ? (root.events[0].data as { orgId: string }).orgId : '';
      await create(first, 'Kept', rootId);
      if (withSnapshot) await first.close();
      const commands = withSnapshot ? new CommandService(deps) : first;
      if (withSnapshot) await commands.start();

      failNext(true);
      await expect(create(commands, 'Ghost', rootId, true)).rejects.toThrow('disk full');
      failNext(false);

      // The ghost was rolled back: its name is free, the kept sibling's is not, and the log has no ghost.
      expect((await create(commands, 'Ghost', rootId)).kind).toBe('applied');
      await expect(create(commands, 'kept', rootId)).rejects.toMatchObject({ code: 'IAM_ERR_NAME_TAKEN' });
      const names = (await store.readAll({ types: ['OrgCreated'], limit: 100 })).map(
        (e) => (e.data as { name: string }).name,
      );
      expect(names).toEqual(['Root', 'Kept', 'Ghost']);
    } finally {
      await store.close();
      await vault.close();
    }
  });

  const system: CommandContext = { principal: 'system' };
  const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

  /** A new root organization named `name` with a webhook subscription signing with `inUse`; returns its id. */
  async function subscribed(commands: CommandService, name: string, inUse: string): Promise<string> {
    const root = await create(commands, name, null);
    if (root.kind !== 'applied') throw new Error(`creating ${name}: ${root.kind}`);
    const subscriptionId = newId('whk');
    const orgId = (root.events[0].data as { orgId: string }).orgId;
    const url = 'https://hooks.example.com/in';
    await commands.execute({ type: 'CreateWebhookSubscription', subscriptionId, orgId, url, secret: inUse }, system);
    return subscriptionId;
  }

  /*
   * The vault is not the event log's database: a rotation's secret is written before its event commits. A rotation
   * that fails (or a crash before its commit) must leave the secret in use signing, with no expiry, and a later
   * rotation must keep that one as the previous secret, not the one nobody was ever shown.
   */
  it('a webhook secret rotation rolled back leaves the secret in use signing', async () => {
    const { vault, store, deps, failNext } = await setUp();
    try {
      const commands = new CommandService(deps);
      await commands.start();
      const [inUse, lost, next] = [secret(), secret(), secret()];
      const subscriptionId = await subscribed(commands, 'Hooks', inUse);
      const rotate = (s: string, idempotent: boolean) =>
        commands.execute(
          { type: 'RotateWebhookSecret', subscriptionId, secret: s },
          idempotent
            ? {
                ...system,
                idempotency: {
                  scope: 's',
                  key: newId('k'),
                  requestHash: 'h',
                  provisionalResponse: { status: 200, headers: {}, body: {} },
                },
              }
            : system,
        );

      failNext(true);
      await expect(rotate(lost, true)).rejects.toThrow('disk full');
      failNext(false);
      expect(await vault.getWebhookSecrets(subscriptionId)).toEqual([{ secret: inUse, expiresAt: null }]);

      expect((await rotate(next, false)).kind).toBe('applied');
      const signing = await vault.getWebhookSecrets(subscriptionId);
      expect(signing.map((s) => s.secret)).toEqual([next, inUse]);
      expect(Date.parse(signing[1].expiresAt!)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    } finally {
      await store.close();
      await vault.close();
    }
  });

  it('a rotation committed but not promoted (a crash, a vault failure) signs after the next start', async () => {
    const { vault, store, deps } = await setUp();
    try {
      let failPromotion = true;
      const flakyVault = Object.assign(Object.create(vault) as typeof vault, {
        promoteWebhookSecret: async (id: string, at: string) => {
          if (failPromotion) throw new Error('vault away');
          return vault.promoteWebhookSecret(id, at);
        },
      });
      const commands = new CommandService({ ...deps, vault: flakyVault });
      await commands.start();
      const [inUse, next] = [secret(), secret()];
      const subscriptionId = await subscribed(commands, 'Hooks after a crash', inUse);
      // Committed: the caller is answered; the vault still signs with the secret in use only.
      expect((await commands.execute({ type: 'RotateWebhookSecret', subscriptionId, secret: next }, system)).kind).toBe(
        'applied',
      );
      expect(await vault.getWebhookSecrets(subscriptionId)).toEqual([{ secret: inUse, expiresAt: null }]);
      // The process goes before its retry (AfterCommitRunner) could promote it.
      await commands.close();

      failPromotion = false;
      const restarted = new CommandService({ ...deps, vault: flakyVault });
      await restarted.start();
      expect((await vault.getWebhookSecrets(subscriptionId)).map((s) => s.secret)).toEqual([next, inUse]);
      expect(await vault.pendingWebhookRotations()).toEqual([]);
    } finally {
      await store.close();
      await vault.close();
    }
  });
});
