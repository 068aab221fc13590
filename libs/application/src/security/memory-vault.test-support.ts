import type { SecretVault } from '../ports/secret-vault';

/** A map-backed vault: enough to test sealing and keyed digests; the SQLite and PostgreSQL vaults have their own integration tests. */
export function memoryVault(): SecretVault & { keyIds(): string[] } {
  const keys = new Map<string, Buffer>();
  const hashes = new Map<string, string>();
  const webhooks = new Map<string, { secret: string; previous: { secret: string; expiresAt: string } | null }>();
  /** Pending rotations: `<subscriptionId> <rotation>` → secret. */
  const pending = new Map<string, string>();
  const pendingOf = (id: string) => [...pending.keys()].filter((k) => k.startsWith(`${id} `));
  return {
    keyIds: () => [...keys.keys()],
    getDataKey: async (id) => keys.get(id),
    getDataKeys: async (ids) => new Map(ids.filter((id) => keys.has(id)).map((id) => [id, keys.get(id)!])),
    ensureDataKey: async (id, candidate) => {
      if (!keys.has(id)) keys.set(id, candidate);
      return keys.get(id)!;
    },
    destroyDataKey: async (id) => void keys.delete(id),
    getPasswordHash: async (id) => hashes.get(id),
    setPasswordHash: async (id, h) => void hashes.set(id, h),
    deletePasswordHash: async (id) => void hashes.delete(id),
    getClientSecretHash: async (id) => hashes.get(`client:${id}`),
    setClientSecretHash: async (id, h) => void hashes.set(`client:${id}`, h),
    deleteClientSecretHash: async (id) => void hashes.delete(`client:${id}`),
    setWebhookSecret: async (id, secret, previousExpiresAt) => {
      if (previousExpiresAt !== null) return void pending.set(`${id} ${previousExpiresAt}`, secret);
      webhooks.set(id, { secret, previous: null });
      for (const k of pendingOf(id)) pending.delete(k);
    },
    promoteWebhookSecret: async (id, previousExpiresAt) => {
      const secret = pending.get(`${id} ${previousExpiresAt}`);
      if (secret === undefined) return;
      const current = webhooks.get(id);
      webhooks.set(id, { secret, previous: current ? { secret: current.secret, expiresAt: previousExpiresAt } : null });
      for (const k of pendingOf(id)) if (k.slice(id.length + 1) <= previousExpiresAt) pending.delete(k);
    },
    pendingWebhookRotations: async () =>
      [...pending.keys()].sort().map((k) => {
        const [subscriptionId, previousExpiresAt] = k.split(' ');
        return { subscriptionId, previousExpiresAt };
      }),
    deleteWebhookSecrets: async (id) => {
      webhooks.delete(id);
      for (const k of pendingOf(id)) pending.delete(k);
    },
    getWebhookSecrets: async (id) => {
      const row = webhooks.get(id);
      if (!row) return [];
      const live = row.previous && Date.parse(row.previous.expiresAt) > Date.now() ? [row.previous] : [];
      return [{ secret: row.secret, expiresAt: null }, ...live];
    },
    close: async () => undefined,
  };
}
