import { randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import { mkdtempSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PasswordHasher } from './password-hasher';
import { ScryptWorkers } from './scrypt-workers';
import { PersonalDataCipher } from './personal-data-cipher';
import { SigningKeyRing } from './signing-key-ring';
import { pooledRandomBytes } from '@arbor/domain';
import { memoryVault } from './memory-vault.test-support';

describe('SigningKeyRing', () => {
  it('creates a P-256 key once, with a private file of mode 0600, and loads the same key later', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
    const first = SigningKeyRing.loadOrCreate(dir);
    const again = SigningKeyRing.loadOrCreate(dir);
    expect(again.current.kid).toBe(first.current.kid);
    const jwks = first.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: first.current.kid });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
  });

  /** One turn of the event loop with a poll for I/O: the kernel's news of a changed directory arrives in it. */
  const kernelNews = () => new Promise((r) => setTimeout(r, 20));

  it("sees another process's rotation and revocation at its first use after the kernel's news, not at the next scheduled check", async () => {
    // Two rings over one directory: the embedded writer and an HTTP worker, or a server and `arbor keys revoke`.
    const dir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
    const server = SigningKeyRing.loadOrCreate(dir);
    const operator = SigningKeyRing.loadOrCreate(dir);
    const leaked = server.current;
    const next = operator.rotate(Date.now());
    await kernelNews();
    expect(server.current.kid).toBe(next.kid);
    operator.revoke(leaked.kid);
    await kernelNews();
    expect(server.find(leaked.kid)).toBeUndefined();
    expect(server.all().map((k) => k.kid)).toEqual([next.kid]);
    server.close();
    operator.close();
  });

  it('sees a key added within the same mtime tick as its last read (the names are compared while the mtime is young)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
    const keys = join(dir, 'keys');
    const server = SigningKeyRing.loadOrCreate(dir);
    const operator = SigningKeyRing.loadOrCreate(dir);
    // Whole seconds, so that the mtime set back below is exactly the one the server read (a float would round).
    const tick = Math.floor(Date.now() / 1000);
    utimesSync(keys, tick, tick);
    await kernelNews();
    server.jwks();
    const next = operator.rotate(Date.now());
    // As if the rotation had landed within the tick the server read the directory in: the mtime did not move.
    utimesSync(keys, tick, tick);
    await kernelNews();
    expect(server.jwks().keys.map((k) => k.kid)).toContain(next.kid);
    server.close();
    operator.close();
  });

  it('reads nothing from the disk between changes of its directory (one stat a second at most), and checks again after one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
    const ring = SigningKeyRing.loadOrCreate(dir);
    await kernelNews();
    ring.current;
    const stat = jest.spyOn(fs, 'statSync');
    try {
      for (let i = 0; i < 1000; i++) ring.find(ring.current.kid);
      expect(stat).not.toHaveBeenCalled();
      // A change the watcher tells of is checked at the next use.
      const operator = SigningKeyRing.loadOrCreate(dir);
      const next = operator.rotate(Date.now());
      operator.close();
      await kernelNews();
      expect(ring.current.kid).toBe(next.kid);
      expect(stat).toHaveBeenCalled();
    } finally {
      stat.mockRestore();
      ring.close();
    }
  });
});

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher({ costLog2: 10 });
  afterAll(() => hasher.close());

  it('verifies the right password only, with a salted self-describing hash', async () => {
    const hash = await hasher.hash('correct horse');
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect(hash).not.toContain('correct horse');
    expect(await hasher.hash('correct horse')).not.toBe(hash);
    expect(await hasher.verify('correct horse', hash)).toBe(true);
    expect(await hasher.verify('wrong horse', hash)).toBe(false);
    expect(await hasher.verify('correct horse', undefined)).toBe(false);
  });

  it('verifies hashes made by scrypt itself (the stored form did not change with the worker threads)', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('tr0ub4dor'.normalize('NFKC'), salt, 32, { N: 2 ** 10, r: 8, p: 1 });
    const stored = `$scrypt$ln=10,r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await hasher.verify('tr0ub4dor', stored)).toBe(true);
    expect(await hasher.verify('tr0ub4d0r', stored)).toBe(false);
  });

  it('hashes on threads of lower CPU priority (Linux), leaving the calling thread as it was', async () => {
    const before = getPriority(0);
    const linux = process.platform === 'linux';
    expect(await hasher.hashingPriority()).toBe(linux ? Math.max(before, 10) : before);
    expect(getPriority(0)).toBe(before);
    const plain = new PasswordHasher({ costLog2: 10, nice: 0 });
    expect(await plain.hashingPriority()).toBe(before);
    expect(await plain.verify('x', await plain.hash('x'))).toBe(true);
    await plain.close();
  });

  it('fails a hash the worker cannot compute instead of hanging', async () => {
    const workers = new ScryptWorkers(1);
    await expect(workers.derive('x', randomBytes(16), 32, { N: 3 })).rejects.toThrow();
    expect(
      (await workers.derive('x', Buffer.alloc(16), 32, { N: 2 ** 10 })).equals(
        scryptSync('x', Buffer.alloc(16), 32, { N: 2 ** 10 }),
      ),
    ).toBe(true);
    await workers.close();
  });

  it('ends its threads on close (a process that starts and closes servers keeps none), refusing later hashes', async () => {
    const threads = () => readdirSync('/proc/self/task').length;
    const closing = new PasswordHasher({ costLog2: 10, concurrency: 2 });
    const before = threads();
    await Promise.all([closing.hash('one'), closing.hash('two')]);
    expect(threads()).toBeGreaterThan(before);
    await closing.close();
    for (let tries = 0; tries < 50 && threads() > before; tries++) await new Promise((r) => setTimeout(r, 20));
    expect(threads()).toBe(before);
    await expect(closing.hash('three')).rejects.toThrow();
    await closing.close(); // idempotent
  });

  it('sheds load with IAM_ERR_RATE_LIMITED once its queue is full', async () => {
    const small = new PasswordHasher({ costLog2: 12, concurrency: 1, maxQueue: 2 });
    expect(small.saturated).toBe(false);
    const pending = Array.from({ length: 6 }, () => small.hash('x'));
    expect(small.saturated).toBe(true);
    const results = await Promise.allSettled(pending);
    expect(small.saturated).toBe(false);
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected.length).toBe(3);
    expect(rejected[0].reason.code).toBe('IAM_ERR_RATE_LIMITED');
    await small.close();
  });
});

describe('PersonalDataCipher', () => {
  it('seals so that only the subject key opens it, and destroying the key erases it', async () => {
    const vault = memoryVault();
    const cipher = new PersonalDataCipher(vault);
    const sealed = await cipher.seal('usr_1', { email: 'ada@example.com', name: 'Ada' });
    expect(sealed).not.toContain('ada');
    expect(await cipher.open('usr_1', sealed)).toEqual({ email: 'ada@example.com', name: 'Ada' });
    // Bound to its subject: the same blob under another subject (with its own key) does not open.
    await vault.ensureDataKey('usr_2', (await vault.getDataKey('usr_1'))!);
    await expect(cipher.open('usr_2', sealed)).rejects.toThrow();
    await vault.destroyDataKey('usr_1');
    expect(await cipher.open('usr_1', sealed)).toBeNull();
  });

  it('seals request records with a key read lately, opens only with the vault, and forgets a key at once', async () => {
    const vault = memoryVault();
    let reads = 0;
    const getDataKey = vault.getDataKey.bind(vault);
    vault.getDataKey = (id) => (reads++, getDataKey(id));
    const cipher = new PersonalDataCipher(vault);
    expect(await cipher.sealRequestRecord('usr_1', { requestId: 'r0' })).toBeNull();
    await cipher.seal('usr_1', { email: 'ada@example.com', name: 'Ada' });
    reads = 0;
    const records = [];
    for (let i = 0; i < 5; i++) records.push(await cipher.sealRequestRecord('usr_1', { requestId: `r${i}` }));
    expect(reads).toBe(1);
    // A nonce of its own each time, so no two records seal alike.
    expect(new Set(records.map((r) => r!.split('.')[1])).size).toBe(5);
    expect(await cipher.openValue('usr_1', records[4]!)).toEqual({ requestId: 'r4' });
    // Destroyed by another process: what this one seals meanwhile opens nowhere (opening reads the vault).
    await vault.destroyDataKey('usr_1');
    const late = await cipher.sealRequestRecord('usr_1', { requestId: 'late' });
    expect(await cipher.openValue('usr_1', late!)).toBeNull();
    // Decisions that hinge on the key read the vault.
    expect(await cipher.sealValueUnderExistingKey('usr_1', { requestId: 'x' })).toBeNull();
    cipher.forget('usr_1');
    expect(await cipher.sealRequestRecord('usr_1', { requestId: 'after' })).toBeNull();
  });

  it('forgets a key for every cipher over the same vault, and keeps no key read during a forget', async () => {
    const vault = memoryVault();
    const commands = new PersonalDataCipher(vault);
    const signIns = new PersonalDataCipher(vault);
    await commands.seal('usr_1', { email: 'ada@example.com', name: 'Ada' });
    expect(await signIns.sealRequestRecord('usr_1', { origin: 'a' })).not.toBeNull();
    // The erasure, through the command service's cipher: the sign-in audit's seals nothing more under that key.
    await vault.destroyDataKey('usr_1');
    commands.forget('usr_1');
    expect(await signIns.sealRequestRecord('usr_1', { origin: 'b' })).toBeNull();

    // A read of the vault under way while the key is destroyed and forgotten.
    await commands.seal('usr_2', { email: 'bo@example.com', name: 'Bo' });
    const getDataKey = vault.getDataKey.bind(vault);
    let release: () => void = () => undefined;
    vault.getDataKey = async (id) => {
      const key = await getDataKey(id);
      await new Promise<void>((r) => (release = r));
      return key;
    };
    const sealing = signIns.sealRequestRecord('usr_2', { origin: 'c' });
    await new Promise((r) => setImmediate(r));
    await vault.destroyDataKey('usr_2');
    commands.forget('usr_2');
    release();
    await sealing;
    vault.getDataKey = getDataKey;
    expect(await signIns.sealRequestRecord('usr_2', { origin: 'd' })).toBeNull();
  });
});

describe('pooledRandomBytes', () => {
  it('gives the bytes asked for, each draw its own, across refills of the pool; refuses sizes outside 1-256', () => {
    const draws = Array.from({ length: 2000 }, () => pooledRandomBytes(12));
    expect(draws.every((d) => d.length === 12)).toBe(true);
    expect(new Set(draws.map((d) => d.toString('hex'))).size).toBe(2000);
    const first = pooledRandomBytes(16);
    const copy = Buffer.from(first);
    pooledRandomBytes(256);
    expect(first).toEqual(copy);
    for (const n of [0, 257, 1.5, -1]) expect(() => pooledRandomBytes(n)).toThrow(RangeError);
  });
});
