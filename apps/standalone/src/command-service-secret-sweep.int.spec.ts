import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientSecretHasher,
  CommandService,
  PasswordHasher,
  PersonalDataCipher,
  type CommandContext,
  type Logger,
  type SecretVault,
} from '@arbor/application';
import { newId } from '@arbor/domain';
import { InProcessBus } from '@arbor/in-process-bus';
import { openSqliteEventStore, openSqliteSecretVault } from '@arbor/sqlite';

/** One hasher for the file; its threads end with it. */
const hasher = new PasswordHasher({ costLog2: 10 });
afterAll(() => hasher.close());

/**
 * The secrets of a revoked client credential or a deleted webhook subscription go once the ending is committed
 * (CommandService.afterCommit). A crash between that commit and their destruction (here: the vault's delete fails
 * as a dying process would leave it) must not keep them for ever: the next start destroys them again.
 */
describe('CommandService: secrets of ended things left by a crash go at the next start', () => {
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const system: CommandContext = { principal: 'system' };
  let dir: string;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'arbor-sweep-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));

  it('destroys a revoked client’s secret hash and a deleted subscription’s secrets after a crash', async () => {
    const store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    // The same vault, whose deletions fail while `crashing`: the process "died" right after the commit.
    let crashing = false;
    const dying: SecretVault = Object.assign(Object.create(vault) as SecretVault, {
      deleteClientSecretHash: async (id: string) => {
        if (crashing) throw new Error('killed');
        return vault.deleteClientSecretHash(id);
      },
      deleteWebhookSecrets: async (id: string) => {
        if (crashing) throw new Error('killed');
        return vault.deleteWebhookSecrets(id);
      },
    });
    const deps = (v: SecretVault) => ({
      store,
      bus: new InProcessBus(),
      vault: v,
      cipher: new PersonalDataCipher(v),
      hasher,
      secrets: new ClientSecretHasher(v),
      log: quiet,
    });
    try {
      const first = new CommandService(deps(dying));
      await first.start();
      const orgId = newId('org');
      await first.execute({ type: 'CreateOrg', orgId, name: 'Acme', parentId: null }, system);
      const clients = [newId('cc'), newId('cc')];
      for (const clientCredentialId of clients)
        await first.execute(
          {
            type: 'IssueClientCredential',
            clientCredentialId,
            orgId,
            name: 'svc',
            scopes: ['orgs:read'],
            secret: ClientSecretHasher.newSecret(),
          },
          system,
        );
      const subscriptions = [newId('whk'), newId('whk')];
      for (const subscriptionId of subscriptions)
        await first.execute(
          {
            type: 'CreateWebhookSubscription',
            subscriptionId,
            orgId,
            url: 'https://example.com/hook',
            secret: `whsec_${randomBytes(32).toString('base64')}`,
          },
          system,
        );

      // The first of each ends in a "crash" after its commit; the second stays.
      crashing = true;
      await expect(
        first.execute({ type: 'RevokeClientCredential', clientCredentialId: clients[0] }, system),
      ).rejects.toThrow('killed');
      await expect(
        first.execute({ type: 'DeleteWebhookSubscription', subscriptionId: subscriptions[0] }, system),
      ).rejects.toThrow('killed');
      crashing = false;
      expect(await vault.getClientSecretHash(clients[0])).toBeDefined();
      expect(await vault.getWebhookSecrets(subscriptions[0])).toHaveLength(1);

      // The restarted service destroys what the ended ones left, and nothing of the live ones.
      const second = new CommandService(deps(vault));
      await second.start();
      expect(await vault.getClientSecretHash(clients[0])).toBeUndefined();
      expect(await vault.getWebhookSecrets(subscriptions[0])).toEqual([]);
      expect(await vault.getClientSecretHash(clients[1])).toBeDefined();
      expect(await vault.getWebhookSecrets(subscriptions[1])).toHaveLength(1);
    } finally {
      await store.close();
      await vault.close();
    }
  });
});
