import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteSecretVault, type SqliteSecretVault } from './sqlite-secret-vault';
import { filesHolding } from './at-rest.test-support';
import { WalTruncation, logWalTruncation, type WalTruncationReport } from './wal-truncation';

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

  it('a rotation’s promotion (the rotation’s answer waits for it) waits only briefly for the reader, and the WAL is emptied after', async () => {
    const rotate = async (secret: string) => {
      const until = new Date(Date.now() + 60_000).toISOString();
      await vault.setWebhookSecret('w1', secret, until);
      await vault.promoteWebhookSecret('w1', until);
    };
    await vault.setWebhookSecret('w1', 'first-recognisable-webhook-secret', null);
    await rotate('second-recognisable-webhook-secret');
    reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM data_keys').get();
    // The third rotation overwrites the first secret in place; the reader still reads when it returns.
    await rotate('third-recognisable-webhook-secret');
    expect(reader.inTransaction).toBe(true);
    reader.exec('COMMIT');
    await vault.walEmptied();
    expect(filesHolding(dir, Buffer.from('first-recognisable-webhook-secret'))).toEqual([]);
  });
});

/** An operator must hear when deleted data stays in a WAL file: a reader that never lets go, a failing checkpoint. */
describe('WAL truncation reports', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;
  let reader: Database.Database;
  let truncation: WalTruncation;
  const reports: WalTruncationReport[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-wal-truncation-reports-'));
    file = path.join(dir, 'data.sqlite');
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('deleted-soon')");
    reports.length = 0;
    truncation = new WalTruncation(db, undefined, { report: (r) => reports.push(r), stuckAfterMs: 20 });
    reader = new Database(file, { readonly: true });
  });
  afterEach(() => {
    truncation.close();
    if (reader.open) reader.close();
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  const readerInTheWay = () => {
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
  };

  it('says nothing when the WAL is emptied at once', async () => {
    db.exec('DELETE FROM t');
    await truncation.request();
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    expect(reports).toEqual([]);
  });

  it('reports a truncation refused past its threshold once, then that the WAL was emptied', async () => {
    readerInTheWay();
    db.exec('DELETE FROM t');
    await truncation.request({ waitMs: 200 });
    expect(reports).toEqual([{ kind: 'stuck', file, pendingMs: expect.any(Number) }]);
    expect(reports[0]!.pendingMs).toBeGreaterThanOrEqual(20);
    reader.exec('COMMIT');
    await truncation.emptied();
    expect(reports.map((r) => r.kind)).toEqual(['stuck', 'emptied']);
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    // The next deletion starts afresh: emptied at once, nothing more to say.
    db.exec("INSERT INTO t VALUES ('again'); DELETE FROM t");
    await truncation.request();
    expect(reports).toHaveLength(2);
  });

  it('reports a retry that fails otherwise than busy, once, and keeps retrying', async () => {
    readerInTheWay();
    db.exec('DELETE FROM t');
    await truncation.request({ waitMs: 0 });
    db.close(); // every retry now throws (the connection is not open)
    await new Promise((resolve) => setTimeout(resolve, 100));
    const errors = reports.filter((r) => r.kind === 'error');
    expect(errors).toEqual([
      { kind: 'error', file, pendingMs: expect.any(Number), error: expect.stringMatching(/not open/) },
    ]);
  });

  it('logs stuck and failing truncations as warnings and their end as information (logWalTruncation)', () => {
    const lines: string[] = [];
    const report = logWalTruncation({
      warn: (message, fields) => lines.push(`warn ${message} ${JSON.stringify(fields)}`),
      info: (message, fields) => lines.push(`info ${message} ${JSON.stringify(fields)}`),
    });
    report({ kind: 'stuck', file: '/d/vault.sqlite', pendingMs: 10_000 });
    report({ kind: 'error', file: '/d/vault.sqlite', pendingMs: 10_001, error: 'disk I/O error' });
    report({ kind: 'emptied', file: '/d/vault.sqlite', pendingMs: 12_000 });
    expect(lines).toEqual([
      'warn WAL still holds deleted data: a reader keeps it from being emptied {"file":"/d/vault.sqlite","pendingMs":10000}',
      'warn WAL truncation after a deletion failed; retrying {"file":"/d/vault.sqlite","pendingMs":10001,"error":"disk I/O error"}',
      'info WAL emptied of deleted data after a delay {"file":"/d/vault.sqlite","pendingMs":12000}',
    ]);
  });
});
