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
  type EventStore,
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
  /** A command service over `store` and `vault` (every port that holds secrets reads the same vault). */
  const serviceOver = (
    store: EventStore,
    vault: SecretVault,
    options: { log?: Logger; bus?: InProcessBus; afterCommitRetryMs?: number[] } = {},
  ) =>
    new CommandService({
      store,
      bus: options.bus ?? new InProcessBus(),
      vault,
      cipher: new PersonalDataCipher(vault),
      hasher,
      secrets: new ClientSecretHasher(vault),
      log: options.log ?? quiet,
      afterCommitRetryMs: options.afterCommitRetryMs,
    });

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
    try {
      const first = serviceOver(store, dying);
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

      // The first of each ends in a "crash" after its commit; the second stays. The commit stands: both answer as
      // applied, their work waiting for a retry that the dead process never makes.
      crashing = true;
      await expect(
        first.execute({ type: 'RevokeClientCredential', clientCredentialId: clients[0] }, system),
      ).resolves.toMatchObject({ kind: 'applied' });
      await expect(
        first.execute({ type: 'DeleteWebhookSubscription', subscriptionId: subscriptions[0] }, system),
      ).resolves.toMatchObject({ kind: 'applied' });
      await first.close();
      crashing = false;
      expect(await vault.getClientSecretHash(clients[0])).toBeDefined();
      expect(await vault.getWebhookSecrets(subscriptions[0])).toHaveLength(1);

      // The restarted service destroys what the ended ones left, and nothing of the live ones.
      const second = serviceOver(store, vault);
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

  it('answers a committed ending as done, publishes it, and retries its vault work until the vault recovers', async () => {
    const store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    // Each of these vault calls fails its first two times after `failing` is set (a locked or full disk).
    let failing = false;
    const failures = new Map<string, number>();
    const flaky =
      <A extends unknown[]>(name: string, call: (...args: A) => Promise<void>) =>
      async (...args: A): Promise<void> => {
        const seen = failures.get(name) ?? 0;
        if (failing && seen < 2) {
          failures.set(name, seen + 1);
          throw new Error(`${name}: SQLITE_BUSY`);
        }
        return call(...args);
      };
    const unsteady: SecretVault = Object.assign(Object.create(vault) as SecretVault, {
      deleteClientSecretHash: flaky('deleteClientSecretHash', (id: string) => vault.deleteClientSecretHash(id)),
      destroyDataKey: flaky('destroyDataKey', (id: string) => vault.destroyDataKey(id)),
    });
    const errors: unknown[] = [];
    const log: Logger = { ...quiet, error: (msg, fields) => errors.push({ msg, ...fields }) };
    const bus = new InProcessBus();
    const published: string[] = [];
    bus.subscribe(async (events) => void published.push(...events.map((e) => e.type)));
    const service = serviceOver(store, unsteady, { log, bus, afterCommitRetryMs: [20, 50] });
    try {
      await service.start();
      const orgId = newId('org');
      await service.execute({ type: 'CreateOrg', orgId, name: 'Acme', parentId: null }, system);
      const clientCredentialId = newId('cc');
      await service.execute(
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
      const userId = newId('usr');
      await service.execute(
        { type: 'AddUserToOrg', orgId, roles: ['member'], newUser: { userId, email: 'bea@example.test', name: 'Bea' } },
        system,
      );
      expect(await vault.getDataKey(userId)).toBeDefined();

      failing = true;
      await expect(
        service.execute({ type: 'RevokeClientCredential', clientCredentialId }, system),
      ).resolves.toMatchObject({ kind: 'applied' });
      await expect(service.execute({ type: 'EraseUser', userId }, system)).resolves.toMatchObject({
        kind: 'applied',
      });
      // Published at once (the bus only speeds delivery up, but a failed vault call must not hold it back).
      await waitFor(() => published.includes('ClientCredentialRevoked') && published.includes('UserErased'));
      // Done on the second retry, in this process: no restart needed.
      await waitFor(async () => (await vault.getClientSecretHash(clientCredentialId)) === undefined);
      await waitFor(async () => (await vault.getDataKey(userId)) === undefined);
      expect(failures).toEqual(
        new Map([
          ['deleteClientSecretHash', 2],
          ['destroyDataKey', 2],
        ]),
      );
      // Each failure logged with what it was about.
      expect(errors).toHaveLength(4);
      expect(errors).toContainEqual(
        expect.objectContaining({ work: 'erase-user-secrets', id: userId, attempt: 2, retryInMs: 50 }),
      );
    } finally {
      await service.close();
      await store.close();
      await vault.close();
    }
  });
  it('stops retrying at close, after the attempt under way, and leaves the work to the next start', async () => {
    const store = openSqliteEventStore(join(dir, 'events.sqlite'));
    const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
    let calls = 0;
    let failing = false;
    const broken: SecretVault = Object.assign(Object.create(vault) as SecretVault, {
      deleteClientSecretHash: async (id: string) => {
        if (!failing) return vault.deleteClientSecretHash(id);
        calls++;
        throw new Error('SQLITE_FULL');
      },
    });
    const warnings: string[] = [];
    const log: Logger = { ...quiet, warn: (msg) => void warnings.push(msg) };
    try {
      const first = serviceOver(store, broken, { log, afterCommitRetryMs: [10] });
      await first.start();
      const orgId = newId('org');
      await first.execute({ type: 'CreateOrg', orgId, name: 'Acme', parentId: null }, system);
      const clientCredentialId = newId('cc');
      const issue = { name: 'svc', scopes: ['orgs:read'], secret: ClientSecretHasher.newSecret() };
      await first.execute({ type: 'IssueClientCredential', clientCredentialId, orgId, ...issue }, system);
      failing = true;
      await first.execute({ type: 'RevokeClientCredential', clientCredentialId }, system);
      await waitFor(() => calls >= 3);
      await first.close();
      const atClose = calls;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(calls).toBe(atClose);
      // Either a retry was waiting, or the attempt under way failed during the close.
      expect(warnings.some((w) => w.includes('left for the next start'))).toBe(true);
      expect(await vault.getClientSecretHash(clientCredentialId)).toBeDefined();

      failing = false;
      const second = serviceOver(store, vault);
      await second.start();
      expect(await vault.getClientSecretHash(clientCredentialId)).toBeUndefined();
    } finally {
      await store.close();
      await vault.close();
    }
  });
});

/** Polls `check` every 10 ms until it holds (2 s at most). */
async function waitFor(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`not reached in 2 s: ${check.toString()}`);
}
