import type { SecretVault } from '../ports/secret-vault';

/** A map-backed vault: enough to test sealing and keyed digests; the SQLite and PostgreSQL vaults have their own integration tests. */
export function memoryVault(): SecretVault & { keyIds(): string[] } {
  const keys = new Map<string, Buffer>();
  const hashes = new Map<string, string>();
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
    close: async () => undefined,
  };
}
