import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteSecretVault, type SqliteSecretVault } from './sqlite-secret-vault';
import { filesHolding } from './at-rest.test-support';

/**
 * A deletion's old bytes must leave the WAL even when another connection (the embedded profile's HTTP workers read
 * the vault and the read models) is reading from it at that moment: SQLite then refuses the truncation, and it
 * must be retried once the reader is done, not given up.
 */
describe('WAL truncation after a deletion, with a reader in the way', () => {
  let dir: string;
  let file: string;
  let vault: SqliteSecretVault;
  let reader: Database.Database;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-wal-truncation-'));
    file = path.join(dir, 'vault.sqlite');
    vault = openSqliteSecretVault(file);
  });
  afterEach(async () => {
    if (reader.open) reader.close();
    await vault.close();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('waits for the reader to end, then empties the WAL: the destroyed key is in no file once the call returns', async () => {
    const key = Buffer.from('a-very-recognisable-secret-key-0');
    await vault.ensureDataKey('s1', key);
    await vault.ensureDataKey('s2', Buffer.alloc(32, 7));
    // Another connection in a read transaction: its snapshot includes the WAL's frames, so no TRUNCATE can finish.
    reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    expect(reader.prepare('SELECT count(*) AS n FROM data_keys').get()).toEqual({ n: 2 });

    let returned = false;
    const destroying = vault.destroyDataKey('s1').then(() => (returned = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Refused while the reader reads: the WAL still holds the page with the key as it was, and the call waits.
    expect(filesHolding(dir, key)).toContain('vault.sqlite-wal');
    expect(returned).toBe(false);

    reader.exec('COMMIT');
    await destroying;
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    expect(filesHolding(dir, key)).toEqual([]);
    expect(await vault.getDataKey('s1')).toBeUndefined();
    expect(await vault.getDataKey('s2')).toEqual(Buffer.alloc(32, 7));
  });

  it('waits off the event loop: a reader that ends meanwhile (a timer here) lets the truncation finish', async () => {
    const hash = Buffer.from('a-very-recognisable-client-secret-hash');
    await vault.setClientSecretHash('c1', hash.toString());
    reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM client_secrets').get();
    // A busy handler sleeping on this thread would keep this timer from running until it gave up (5 s), and the
    // hash would stay in the WAL.
    setTimeout(() => reader.exec('COMMIT'), 20);
    await vault.deleteClientSecretHash('c1');
    expect(filesHolding(dir, hash)).toEqual([]);
  });

  it('keeps retrying past its wait, until the reader ends', async () => {
    const key = Buffer.from('another-recognisable-secret-key-');
    await vault.ensureDataKey('s1', key);
    reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM data_keys').get();
    await vault.destroyDataKey('s1'); // returns after TRUNCATION_WAIT_MS, the reader still reading
    expect(filesHolding(dir, key)).toContain('vault.sqlite-wal');
    reader.exec('COMMIT');
    await vault.walEmptied();
    expect(filesHolding(dir, key)).toEqual([]);
  });

  it('a rotation (inside the log’s write group) waits only briefly for the reader, and the WAL is emptied after', async () => {
    await vault.setWebhookSecret('w1', 'first-recognisable-webhook-secret', null);
    await vault.setWebhookSecret(
      'w1',
      'second-recognisable-webhook-secret',
      new Date(Date.now() + 60_000).toISOString(),
    );
    reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM data_keys').get();
    // The third rotation overwrites the first secret in place; the reader still reads when it returns.
    await vault.setWebhookSecret(
      'w1',
      'third-recognisable-webhook-secret',
      new Date(Date.now() + 60_000).toISOString(),
    );
    expect(reader.inTransaction).toBe(true);
    reader.exec('COMMIT');
    await vault.walEmptied();
    expect(filesHolding(dir, Buffer.from('first-recognisable-webhook-secret'))).toEqual([]);
  });
});
