import type { SecretVault } from '../ports/secret-vault';

/** A map-backed vault: enough to test sealing and keyed digests; the SQLite and PostgreSQL vaults have their own integration tests. */
export function memoryVault(): SecretVault & { keyIds(): string[] } {
  const keys = new Map<string, Buffer>();
  const hashes = new Map<string, string>();
  const webhooks = new Map<
    string,
    {
      secret: string;
      previous: { secret: string; expiresAt: string } | null;
      pending: { secret: string; rotation: string } | null;
    }
  >();
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
      const current = webhooks.get(id);
      if (previousExpiresAt === null) webhooks.set(id, { secret, previous: null, pending: null });
      else if (current) current.pending = { secret, rotation: previousExpiresAt };
    },
    promoteWebhookSecret: async (id, previousExpiresAt) => {
      const current = webhooks.get(id);
      if (!current?.pending || current.pending.rotation !== previousExpiresAt) return;
      const previous = { secret: current.secret, expiresAt: previousExpiresAt };
      webhooks.set(id, { secret: current.pending.secret, previous, pending: null });
    },
    deleteWebhookSecrets: async (id) => void webhooks.delete(id),
    getWebhookSecrets: async (id) => {
      const row = webhooks.get(id);
      if (!row) return [];
      const live = row.previous && Date.parse(row.previous.expiresAt) > Date.now() ? [row.previous] : [];
      return [{ secret: row.secret, expiresAt: null }, ...live];
    },
    close: async () => undefined,
  };
}
