import { randomBytes } from 'node:crypto';
import { newId } from '@arbor/domain';
import type { ReadModels } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { NewSignInRecord, SignInAuditStore, SignInRecord } from '../ports/sign-in-audit-store';
import { KeyedDigest } from '../security/keyed-digest';
import { PersonalDataCipher } from '../security/personal-data-cipher';
import { SignInAudit } from './sign-in-audit';

/** Data keys in memory; `destroy` is what erasure does to one. Only what SignInAudit reaches is implemented. */
function memoryVault() {
  const keys = new Map<string, Buffer>();
  const vault = {
    getDataKey: async (id: string) => keys.get(id),
    ensureDataKey: async (id: string, fresh: Buffer) => {
      if (!keys.has(id)) keys.set(id, fresh);
      return keys.get(id)!;
    },
  } as unknown as SecretVault;
  return { vault, keys };
}

/** `orgs`, `clients` and `history` replace the read models' answers they name (by default: nothing exists). */
function audit(
  orgs: Partial<ReadModels['orgs']> = {},
  clients: Partial<ReadModels['clients']> = {},
  history: Partial<ReadModels['history']> = {},
) {
  const { vault, keys } = memoryVault();
  const records: SignInRecord[] = [];
  const store = {
    record: async (r: NewSignInRecord) => void records.push({ ...r, position: records.length + 1 }),
  } as unknown as SignInAuditStore;
  const readModels = {
    users: { findByEmail: async () => undefined },
    memberships: { membershipRoots: async () => [] },
    orgs: { parents: async () => [], ancestorIds: async () => [], get: async () => undefined, ...orgs },
    clients: { getByClientId: async () => undefined, ...clients },
    history: { lastClientByClientId: async () => undefined, ...history },
  } as unknown as ReadModels;
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const signIns = new SignInAudit({
    store,
    readModels,
    cipher: new PersonalDataCipher(vault),
    usernames: new KeyedDigest(vault, 'system:sign-in-username-key'),
    log,
  });
  return { signIns, records, keys };
}

const origin = { requestId: 'req-1', sourceAddress: '203.0.113.7', userAgent: 'marker-agent/1.0' };

describe('SignInAudit: the origin of a record naming a user', () => {
  it('is sealed under the user key, and reads as erased once the key is gone', async () => {
    const { signIns, records, keys } = audit();
    keys.set('usr_1', randomBytes(32));
    await signIns.record({ kind: 'grant', grantType: 'password', outcome: 'success', userId: 'usr_1', origin });
    expect(JSON.stringify(records[0])).not.toContain('203.0.113.7');
    expect((await signIns.open(records[0])).origin).toEqual({
      sourceAddress: '203.0.113.7',
      userAgent: 'marker-agent/1.0',
    });
    keys.delete('usr_1');
    expect((await signIns.open(records[0])).origin).toEqual({ erased: true });
  });

  it('takes the ids with it: sealed in new records, left out of older ones (ids in clear) once the user is erased', async () => {
    const { signIns, records, keys } = audit();
    keys.set('usr_1', randomBytes(32));
    await signIns.record({
      kind: 'grant',
      outcome: 'success',
      userId: 'usr_1',
      tokenId: 'jti-1',
      sessionId: 'sid-1',
      origin,
    });
    expect(JSON.stringify(records[0])).not.toMatch(/req-1|jti-1|sid-1/);
    expect(await signIns.open(records[0])).toMatchObject({ requestId: 'req-1', tokenId: 'jti-1', sessionId: 'sid-1' });
    const older = { ...records[0], requestId: 'req-0', tokenId: 'jti-0', sessionId: 'sid-0' };
    keys.delete('usr_1');
    for (const record of [records[0], older])
      expect(Object.keys(await signIns.open(record))).toEqual(
        expect.not.arrayContaining(['requestId', 'tokenId', 'sessionId']),
      );
  });

  it('is not kept in clear when the user was erased before the record was written (it reads as erased)', async () => {
    // Records are written after the answer: an erasure may come between a sign-in and its record.
    const { signIns, records } = audit();
    await signIns.record({ kind: 'revocation', outcome: 'success', userId: 'usr_gone', origin });
    expect(records).toHaveLength(1);
    expect(JSON.stringify(records[0])).not.toMatch(/203\.0\.113\.7|marker-agent/);
    expect((await signIns.open(records[0])).origin).toEqual({ erased: true });
  });

  it('is kept in clear when no user is named (an unknown account, a client)', async () => {
    const { signIns, records } = audit();
    await signIns.record({ kind: 'grant', grantType: 'client_credentials', outcome: 'failure', origin });
    expect((await signIns.open(records[0])).origin).toEqual({
      sourceAddress: '203.0.113.7',
      userAgent: 'marker-agent/1.0',
    });
  });
});

describe('SignInAudit: the organizations a client_credentials grant is filed under', () => {
  const grant = { kind: 'grant', grantType: 'client_credentials', outcome: 'success', origin } as const;
  const clientId = newId('cli');

  it('takes the client’s organization from the grant, with its lineage as ids, reading no client', async () => {
    const { signIns, records } = audit(
      { ancestorIds: async (id) => (id === 'org_leaf' ? ['org_root', 'org_mid'] : []) },
      {
        getByClientId: async () => {
          throw new Error('the grant read the client already');
        },
      },
    );
    await signIns.record({ ...grant, clientId, clientOrgId: 'org_leaf' });
    expect(records[0].orgIds).toEqual(['org_leaf', 'org_root', 'org_mid']);
  });

  it('files under a root organization that still exists, and goes by the client’s last version once it is deleted', async () => {
    const root = audit({ get: async (id) => (id === 'org_root' ? ({ id } as never) : undefined) });
    await root.signIns.record({ ...grant, clientId, clientOrgId: 'org_root' });
    expect(root.records[0].orgIds).toEqual(['org_root']);

    // Deleted between the grant and its record: the lineage it had when the client ended (at position 42).
    const gone = audit(
      {},
      {},
      {
        lastClientByClientId: async () => ({ client: { orgId: 'org_gone' }, endedAt: 42 }) as never,
        parents: async (id, at) => (id === 'org_gone' && at === 41 ? [{ id: 'org_parent' } as never] : []),
      },
    );
    await gone.signIns.record({ ...grant, clientId, clientOrgId: 'org_gone' });
    expect(gone.records[0].orgIds).toEqual(['org_gone', 'org_parent']);
  });
});
