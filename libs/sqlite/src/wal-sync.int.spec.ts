import { newEvent as ev } from '@arbor/testing';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-event-store';
import { WalSync } from './wal-sync';
import { holdFdatasync, settledYet } from './wal-sync.test-support';

describe('SqliteEventStore: commits become durable off the event loop', () => {
  let dir: string;
  let file: string;
  let store: SqliteEventStore | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-walsync-'));
    file = path.join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('answers neither the writer nor a reader of its commit before the fdatasync of the WAL ends', async () => {
    store = openSqliteEventStore(file);
    const hold = holdFdatasync();
    try {
      const write = store.transaction((tx) => tx.append('s', [ev('A')], 'no_stream'));
      expect(await settledYet(write)).toBe(false);
      expect(hold.calls()).toBe(1);
      // The commit is in the WAL (another connection sees it), but this process hands it on to nobody yet.
      const other = new Database(file, { readonly: true });
      expect(other.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 1 });
      other.close();
      const head = store.headPosition();
      const all = store.readAll({ after: 0, limit: 10 });
      expect(await settledYet(head)).toBe(false);
      expect(await settledYet(all)).toBe(false);
      hold.release();
      await write;
      expect(await head).toBe(1);
      expect((await all).map((e) => e.type)).toEqual(['A']);
    } finally {
      hold.restore();
    }
  });

  it('runs the next group while the previous one waits for the disk, and lets later commits share an fdatasync', async () => {
    store = openSqliteEventStore(file);
    const hold = holdFdatasync();
    try {
      const first = store.transaction((tx) => tx.append('s1', [ev('A')], 'no_stream'));
      expect(await settledYet(first)).toBe(false);
      // While the first group's fdatasync is held, 20 more transactions commit (the event loop is free).
      const more = Array.from({ length: 20 }, (_, i) =>
        store!.transaction((tx) => tx.append(`t${i}`, [ev('B')], 'no_stream')),
      );
      expect(await settledYet(Promise.all(more))).toBe(false);
      const other = new Database(file, { readonly: true });
      expect(other.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 21 });
      other.close();
      expect(hold.calls()).toBe(1);
      hold.release();
      await Promise.all([first, ...more]);
      // One more for every commit made while the first was in flight, however many groups they took.
      expect(hold.calls()).toBe(2);
      expect(await store.headPosition()).toBe(21);
    } finally {
      hold.restore();
    }
  });

  it('holds a refusal decided on a commit not yet durable until that commit is', async () => {
    store = openSqliteEventStore(file);
    const hold = holdFdatasync();
    try {
      const first = store.transaction((tx) => tx.append('s', [ev('A')], 'no_stream'));
      // Decided on the first commit (stream s exists now): a version conflict, known before the disk has it.
      const refused = store.transaction(async (tx) => {
        const result = await tx.append('s', [ev('B')], 'no_stream');
        if (!result.ok) throw new Error(`conflict: s is at ${result.actual}`);
      });
      expect(await settledYet(refused)).toBe(false);
      hold.release();
      await first;
      await expect(refused).rejects.toThrow('conflict: s is at 1');
    } finally {
      hold.restore();
    }
  });

  it('syncs the WAL of the file SQLite opened when the log is reached through a symbolic link', async () => {
    const real = path.join(dir, 'volume');
    fs.mkdirSync(real);
    fs.writeFileSync(path.join(real, 'events.sqlite'), '');
    const link = path.join(dir, 'events-link.sqlite');
    fs.symlinkSync(path.join(real, 'events.sqlite'), link);
    store = openSqliteEventStore(link);
    const synced: number[] = [];
    const real_ = fs.fdatasync;
    const spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: fs.NoParamCallback) => {
      synced.push(fs.fstatSync(fd).ino);
      real_(fd, callback);
    }) as typeof fs.fdatasync);
    try {
      await store.transaction((tx) => tx.append('s', [ev('A')], 'no_stream'));
      expect(synced.length).toBeGreaterThan(0);
      expect(new Set(synced)).toEqual(new Set([fs.statSync(path.join(real, 'events.sqlite-wal')).ino]));
      expect(fs.existsSync(`${link}-wal`)).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps every acknowledged write across a reopen', async () => {
    store = openSqliteEventStore(file);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store!.transaction((tx) => tx.append(`s${i}`, [ev('A')], 'no_stream'))),
    );
    await store.close();
    store = openSqliteEventStore(file);
    expect(await store.headPosition()).toBe(50);
  });
});

describe('WalSync', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-walsync-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fails every commit and every later wait once an fdatasync fails: their outcome is unknown', async () => {
    const wal = path.join(dir, 'x-wal');
    fs.writeFileSync(wal, 'frames');
    const sync = WalSync.open(wal);
    // A disk error, as the kernel reports it to fdatasync.
    const spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, callback: fs.NoParamCallback) => {
      setImmediate(() => callback(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })));
    }) as typeof fs.fdatasync);
    try {
      await expect(sync.committed()).rejects.toThrow(/failed \(EIO: i\/o error\): the outcome .* is unknown/);
      expect(sync.failed).toBeInstanceOf(Error);
      await expect(sync.settled()).rejects.toBe(sync.failed);
      await expect(sync.committed()).rejects.toBe(sync.failed);
    } finally {
      spy.mockRestore();
      await sync.close();
    }
  });

  it('refuses a WAL SQLite has not made, and one it cannot sync, when it opens', () => {
    expect(() => WalSync.open(path.join(dir, 'missing-wal'))).toThrow(/ENOENT/);
    // Linux refuses fdatasync on a character device (EINVAL).
    expect(() => WalSync.open('/dev/null')).toThrow(/EINVAL/);
  });

  it('rejects a commit counted after close (never synced)', async () => {
    const wal = path.join(dir, 'y-wal');
    fs.writeFileSync(wal, 'frames');
    const sync = WalSync.open(wal);
    await sync.close();
    await expect(sync.committed()).rejects.toThrow(/not synced/);
  });

  it('waits for nothing when nothing was committed, and for nothing in a read-only store', async () => {
    const none = WalSync.none();
    await expect(none.committed()).resolves.toBeUndefined();
    await expect(none.settled()).resolves.toBeUndefined();
    await none.close();
  });
});
