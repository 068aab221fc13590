import {
  chainHash,
  CHAIN_GENESIS,
  requestMetadataDigest,
  signLogHead,
  startExpiryPurge,
  SigningKeyRing,
  readMetadataDrops,
  storedCheckpoints,
  verifyEventChain,
  type ChainLink,
  type ChainVerification,
  type EventStore,
  type Logger,
  type TokenStore,
} from '@arbor/application';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEvent as ev, type EventStoreHarness } from './event-store-conformance';

type OpenStore = EventStore & { close(): Promise<void> };

/** An event store under test, and a way to change its tables behind its back, as someone with the files would. */
export interface EventChainHarness extends EventStoreHarness {
  /**
   * Runs SQL on the log's tables (`events`, `event_orgs`, unqualified) outside the store, with foreign keys
   * unchecked where the engine allows it. The statements the suite sends are valid in SQLite and PostgreSQL alike.
   */
  tamper(sql: string): Promise<void>;
  /** A bytes literal in the engine's SQL, from hex (SQLite `X'..'`, PostgreSQL `'\\x..'::bytea`). */
  bytes(hex: string): string;
}

const FORGED_ID = '00000000-0000-4000-8000-00000000f0f0';

/**
 * The hash chain (event-chain.ts in @arbor/application) as every adapter must keep it: each event chained to the
 * one before it in the same transaction as its append, whatever the transactions around it did; events written
 * before the chain existed chained when the store is opened; and every way of changing the tables that the
 * issue names (altering, removing, inserting, reordering an event) found and named by `verifyEventChain`.
 */
export function eventChainConformance(harness: EventChainHarness): void {
  let store: OpenStore;
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store.close();
    await harness.release();
  });

  const verify = async (s: EventStore = store): Promise<ChainVerification> =>
    verifyEventChain((after, limit) => s.readChainLinks(after, limit), {
      pageSize: 4,
      metadataDrops: await readMetadataDrops(s),
    });

  /** Records a retention drop as the purge does before it drops (RequestMetadataDropped). */
  const recordDrop = (before: string, orgId: string | null = null) =>
    store.transaction((tx) =>
      tx.append(`audit-retention-${orgId ?? 'server'}`, [ev('RequestMetadataDropped', { before, orgId })], 'any'),
    );

  /** Ten events on three streams: single and multi-event appends, a rolled-back one and a conflict between. */
  async function writeLog(): Promise<void> {
    await store.transaction((tx) =>
      tx.append('a', [ev('A1', { n: 1 }, ['a']), ev('A2', { n: 2 }, ['a'])], 'no_stream'),
    );
    await store
      .transaction(async (tx) => {
        await tx.append('b', [ev('B0')], 'no_stream');
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await store.transaction((tx) => tx.append('a', [ev('A3')], 'no_stream'));
    const all = await Promise.allSettled(
      [0, 1, 2, 3, 4, 5].map((i) =>
        store.transaction(async (tx) => {
          const result = await tx.append(
            `c${i % 3}`,
            [ev('C', { i, nested: { z: 1, a: [true, null] } }, ['c'])],
            'any',
          );
          if (i === 4) throw new Error('rolled back after its append');
          return result;
        }),
      ),
    );
    expect(all.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    await store.transaction((tx) => tx.append('b', [ev('B1', { who: 'ünïcødé ✓' }, ['b', 'a'])], 'no_stream'));
    await store.transaction((tx) => tx.append('a', [ev('A3'), ev('A4')], 2));
  }

  it('chains every event to the one before it, across transactions rolled back, conflicts and concurrent writers', async () => {
    await writeLog();
    const links: ChainLink[] = await store.readChainLinks(0, 100);
    expect(links).toHaveLength(10);
    expect(Buffer.from(links[0].prevHash as Uint8Array)).toEqual(CHAIN_GENESIS);
    links.slice(1).forEach((link, i) => expect(link.prevHash).toEqual(links[i].hash));
    const report = await verify();
    expect(report).toEqual({
      valid: true,
      events: 10,
      checkpoints: 0,
      uncheckedCheckpoints: 0,
      head: { position: await store.headPosition(), hash: links[9].hash },
    });
  });

  it('chains the appends a callback started without waiting for them', async () => {
    const first = store.transaction(async (tx) => {
      void tx.append('s-a', [ev('A')], 'no_stream');
      void tx.append('s-b', [ev('B')], 'no_stream');
      return 'done';
    });
    const second = store.transaction((tx) => tx.append('s-c', [ev('C')], 'no_stream'));
    await Promise.all([first, second]);
    expect(await verify()).toMatchObject({ valid: true, events: 3 });
  });

  it('keeps the chain across close and reopen', async () => {
    await writeLog();
    await store.close();
    store = await harness.reopen();
    await store.transaction((tx) => tx.append('d', [ev('D1')], 'no_stream'));
    expect(await verify()).toMatchObject({ valid: true, events: 11 });
  });

  it('finds where the organization index no longer matches the hashed paths: a row removed or added', async () => {
    await writeLog();
    expect(await store.firstOrgIndexMismatch()).toBeUndefined();
    const p = await positions();
    // writeLog's B1 event (index 7) has the path ['b', 'a'].
    await harness.tamper(`DELETE FROM event_orgs WHERE org_id = 'a' AND position = ${p[7]}`);
    expect(await store.firstOrgIndexMismatch()).toBe(p[7]);
    await harness.tamper(`INSERT INTO event_orgs (org_id, position) VALUES ('a', ${p[7]})`);
    expect(await store.firstOrgIndexMismatch()).toBeUndefined();
    await harness.tamper(`INSERT INTO event_orgs (org_id, position) VALUES ('zz', ${p[2]})`);
    expect(await store.firstOrgIndexMismatch()).toBe(p[2]);
  });

  it('never chains again what someone unchained: opening names it, and refuses to append onto it', async () => {
    await writeLog();
    await store.close();
    // Only the migration that brought the chain chains old events; a store reopened later must not re-hash a log
    // whose hashes someone cleared (that would sign whatever they changed).
    await harness.tamper('UPDATE events SET prev_hash = NULL, hash = NULL');
    store = await harness.reopen();
    expect(await verify()).toMatchObject({ valid: false, events: 0, firstBreak: { kind: 'unchained', position: 1 } });
    await expect(store.transaction((tx) => tx.append('d', [ev('D1')], 'no_stream'))).rejects.toThrow(
      'written before the hash chain',
    );
  });

  /** The positions of the log `writeLog` wrote, in order (a rolled-back append may leave a gap in some engines). */
  const positions = async (): Promise<number[]> => (await store.readChainLinks(0, 100)).map((l) => l.event.position);

  it.each([
    [
      'data',
      (p: number) => `UPDATE events SET data = '{"i":9,"nested":{"a":[true,null],"z":1}}' WHERE position = ${p}`,
    ],
    ['actor', (p: number) => `UPDATE events SET actor_id = 'usr_2' WHERE position = ${p}`],
    ['own hash', (p: number) => `UPDATE events SET hash = prev_hash WHERE position = ${p}`],
  ])('names an event whose %s was changed in the table', async (_what, alter) => {
    await writeLog();
    const p = await positions();
    await harness.tamper(alter(p[3]));
    expect(await verify()).toMatchObject({ valid: false, events: 3, firstBreak: { kind: 'altered', position: p[3] } });
  });

  describe('request metadata (issue 14)', () => {
    const sealed = { sealed: 'v1.aXY.Y2lwaGVy', subjectId: 'usr_1' };
    const clear = {
      requestId: 'req-1',
      sourceAddress: '203.0.113.7',
      userAgent: 'ua',
      token: { jti: 'j', sub: 'cc_1', clientId: 'cli_1' },
    };
    /** Three events: one without metadata (as before), one sealed, one in clear; returns their positions. */
    async function writeWithMetadata(): Promise<number[]> {
      await store.transaction((tx) => tx.append('m', [ev('M0')], 'no_stream'));
      const result = await store.transaction((tx) =>
        tx.append(
          'm',
          [
            { ...ev('M1', { n: 1 }, ['m']), requestMetadata: sealed },
            { ...ev('M2'), requestMetadata: clear },
          ],
          1,
        ),
      );
      expect(result).toMatchObject({ ok: true, events: [{ requestMetadata: sealed }, { requestMetadata: clear }] });
      return positions();
    }

    it('keeps it beside the event, hashed by its digest, in every read', async () => {
      const p = await writeWithMetadata();
      const [plain, withSealed, withClear] = await store.readStream('m');
      expect(plain).not.toHaveProperty('requestMetadata');
      expect(plain).not.toHaveProperty('metadataDigest');
      expect(withSealed).toMatchObject({ requestMetadata: sealed, metadataDigest: requestMetadataDigest(sealed) });
      expect(withClear).toMatchObject({ requestMetadata: clear, metadataDigest: requestMetadataDigest(clear) });
      expect(await store.readAll({ after: 0, limit: 10, actorId: 'usr_1' })).toEqual([plain, withSealed, withClear]);
      const links = await store.readChainLinks(0, 10);
      expect(links.map((l) => l.event)).toEqual([plain, withSealed, withClear]);
      expect(chainHash(links[1].prevHash as Uint8Array, withSealed)).toEqual(Buffer.from(links[1].hash as Uint8Array));
      expect(p).toHaveLength(3);
      expect(await verify()).toMatchObject({ valid: true, events: 3 });
    });

    it('verifies once a recorded drop covers it (the digest stays), and names metadata changed behind the store', async () => {
      const p = await writeWithMetadata();
      await harness.tamper(`UPDATE events SET request_metadata = NULL WHERE position = ${p[1]}`);
      // Nulled behind the store, with no recorded retention drop: named.
      expect(await verify()).toMatchObject({
        valid: false,
        events: 1,
        firstBreak: { kind: 'metadata', position: p[1] },
      });
      const [, m1] = await store.readStream('m');
      await recordDrop(new Date(Date.parse(m1.occurredAt) + 1).toISOString());
      expect(await verify()).toMatchObject({ valid: true, events: 4 });
      const [, dropped] = await store.readStream('m');
      expect(dropped).toMatchObject({ requestMetadata: null, metadataDigest: requestMetadataDigest(sealed) });
      await harness.tamper(`UPDATE events SET request_metadata = '{"requestId":"forged"}' WHERE position = ${p[2]}`);
      expect(await verify()).toMatchObject({
        valid: false,
        events: 2,
        firstBreak: { kind: 'altered', position: p[2] },
      });
    });

    it('accepts gone metadata only where a later recorded drop covers it: not an earlier one, not another organization’s', async () => {
      const meta = (n: number) => ({ ...clear, requestId: `req-${n}` });
      await store.transaction((tx) =>
        tx.append('e', [{ ...ev('E1', {}, ['r']), requestMetadata: meta(1) }], 'no_stream'),
      );
      const [e1] = await store.readStream('e');
      const after = new Date(Date.parse(e1.occurredAt) + 1).toISOString();
      await recordDrop(after, 'x');
      await store.transaction((tx) => tx.append('e', [{ ...ev('E2', {}, ['r']), requestMetadata: meta(2) }], 1));
      const [, e2] = await store.readStream('e');
      await harness.tamper(`UPDATE events SET request_metadata = NULL WHERE position = ${e1.position}`);
      // Another organization's drop does not cover it.
      expect(await verify()).toMatchObject({ valid: false, firstBreak: { kind: 'metadata', position: e1.position } });
      await recordDrop(after, 'r');
      expect(await verify()).toMatchObject({ valid: true, events: 4 });
      // A drop recorded before the event (at an earlier position) does not cover it, whatever its cutoff.
      await harness.tamper(`UPDATE events SET request_metadata = NULL WHERE position = ${e2.position}`);
      expect(await verify()).toMatchObject({ valid: false, firstBreak: { kind: 'metadata', position: e2.position } });
    });

    it('says whether a drop would change anything (hasRequestMetadataBefore), for the server and an organization', async () => {
      const meta = (n: number) => ({ ...clear, requestId: `req-${n}` });
      expect(await store.hasRequestMetadataBefore(new Date(Date.now() + 60_000).toISOString())).toBe(false);
      await store.transaction((tx) =>
        tx.append(
          'h',
          [{ ...ev('H1', {}, ['r', 'c']), requestMetadata: meta(1) }, { ...ev('H2', {}, ['x']) }],
          'no_stream',
        ),
      );
      const [h1] = await store.readStream('h');
      const before = new Date(Date.parse(h1.occurredAt) - 60_000).toISOString();
      const after = new Date(Date.parse(h1.occurredAt) + 1).toISOString();
      expect(await store.hasRequestMetadataBefore(before)).toBe(false);
      expect(await store.hasRequestMetadataBefore(after)).toBe(true);
      expect(await store.hasRequestMetadataBefore(after, 'c')).toBe(true);
      expect(await store.hasRequestMetadataBefore(after, 'r')).toBe(true);
      expect(await store.hasRequestMetadataBefore(after, 'x')).toBe(false);
      expect(await store.hasRequestMetadataBefore(before, 'r')).toBe(false);
      await store.dropRequestMetadata(after, 'r');
      expect(await store.hasRequestMetadataBefore(after)).toBe(false);
      expect(await store.hasRequestMetadataBefore(after, 'c')).toBe(false);
    });

    it('drops the metadata of events before a time through the store (retention): the chain still verifies', async () => {
      await writeWithMetadata();
      const [, withSealed, withClear] = await store.readStream('m');
      // Nothing occurred before the first event: nothing is dropped.
      expect(await store.dropRequestMetadata(new Date(Date.parse(withSealed.occurredAt) - 60_000).toISOString())).toBe(
        0,
      );
      const after = new Date(Date.parse(withClear.occurredAt) + 1).toISOString();
      await recordDrop(after);
      expect(await store.dropRequestMetadata(after)).toBe(2);
      const [plain, dropped, droppedToo] = await store.readStream('m');
      expect(plain).not.toHaveProperty('requestMetadata');
      expect(dropped).toMatchObject({ requestMetadata: null, metadataDigest: requestMetadataDigest(sealed) });
      expect(droppedToo).toMatchObject({ requestMetadata: null, metadataDigest: requestMetadataDigest(clear) });
      expect(await store.dropRequestMetadata(after)).toBe(0);
      expect(await verify()).toMatchObject({ valid: true, events: 4 });
    });

    it('drops only the metadata of events about an organization or below it at the time (per-organization retention)', async () => {
      const meta = (n: number) => ({ ...clear, requestId: `req-${n}` });
      await store.transaction((tx) =>
        tx.append(
          'o',
          [
            { ...ev('O1', {}, ['r', 'c']), requestMetadata: meta(1) },
            { ...ev('O2', {}, ['r']), requestMetadata: meta(2) },
            { ...ev('O3', {}, ['x']), requestMetadata: meta(3) },
            { ...ev('O4'), requestMetadata: meta(4) },
          ],
          'no_stream',
        ),
      );
      const events = await store.readStream('o');
      const after = new Date(Date.parse(events[3].occurredAt) + 1).toISOString();
      const before = new Date(Date.parse(events[0].occurredAt) - 60_000).toISOString();
      expect(await store.dropRequestMetadata(before, 'r')).toBe(0);
      await recordDrop(after, 'c');
      expect(await store.dropRequestMetadata(after, 'c')).toBe(1);
      expect((await store.readStream('o')).map((e) => e.requestMetadata)).toEqual([null, meta(2), meta(3), meta(4)]);
      await recordDrop(after, 'r');
      expect(await store.dropRequestMetadata(after, 'r')).toBe(1);
      expect(await store.dropRequestMetadata(after, 'r')).toBe(0);
      expect(await store.dropRequestMetadata(after, 'nowhere')).toBe(0);
      expect((await store.readStream('o')).map((e) => e.requestMetadata)).toEqual([null, null, meta(3), meta(4)]);
      expect((await store.readStream('o')).map((e) => e.metadataDigest)).toEqual(
        [1, 2, 3, 4].map((n) => requestMetadataDigest(meta(n))),
      );
      expect(await verify()).toMatchObject({ valid: true, events: 6 });
    });

    it('purges by the organizations’ settings in the log: the shortest on an event’s path wins (startExpiryPurge)', async () => {
      const meta = (n: number) => ({ ...clear, requestId: `req-${n}` });
      await store.transaction((tx) =>
        tx.append(
          'p',
          [
            { ...ev('OrgAuditRetentionSet', { orgId: 'r', days: 10 }, ['r']), requestMetadata: meta(0) },
            { ...ev('OrgAuditRetentionSet', { orgId: 'x', days: 400 }, ['x']) },
            { ...ev('P1', {}, ['r', 'c']), requestMetadata: meta(1) },
            { ...ev('P2', {}, ['x']), requestMetadata: meta(2) },
            { ...ev('P3'), requestMetadata: meta(3) },
          ],
          'no_stream',
        ),
      );
      const quiet = { info: () => undefined, warn: () => undefined } as unknown as Logger;
      const tokenStore = { purgeExpired: async () => undefined } as unknown as TokenStore;
      // 20 days later: past r's 10 days, within the server's 365 and x's 400 (which cannot lengthen anything).
      startExpiryPurge({
        eventStore: store,
        tokenStore,
        log: quiet,
        auditRetentionDays: 365,
        recordDrop: async (before, orgId) => void (await recordDrop(before, orgId)),
        now: () => Date.now() + 20 * 86_400_000,
      }).stop();
      const kept = async () => (await store.readStream('p')).map((e) => e.requestMetadata);
      for (let i = 0; i < 100 && (await kept())[2] !== null; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await kept()).toEqual([null, undefined, null, meta(2), meta(3)]);
      // One drop recorded (r's): the server's 365 days would change nothing.
      const drops = await store.readAll({ after: 0, limit: 10, types: ['RequestMetadataDropped'] });
      expect(drops.map((e) => e.data)).toEqual([{ before: expect.any(String), orgId: 'r' }]);
      expect(await verify()).toMatchObject({ valid: true, events: 6 });
    });

    it('names an event whose digest was removed or added behind the store', async () => {
      const p = await writeWithMetadata();
      await harness.tamper(
        `UPDATE events SET request_metadata = NULL, metadata_digest = NULL WHERE position = ${p[1]}`,
      );
      expect(await verify()).toMatchObject({
        valid: false,
        events: 1,
        firstBreak: { kind: 'altered', position: p[1] },
      });
    });
  });

  it('names the event after a removed one', async () => {
    await writeLog();
    const p = await positions();
    await harness.tamper(
      `DELETE FROM event_orgs WHERE position = ${p[4]}; DELETE FROM events WHERE position = ${p[4]}`,
    );
    expect(await verify()).toMatchObject({ valid: false, events: 4, firstBreak: { kind: 'removed', position: p[5] } });
  });

  it('names an inserted event, in the middle of the log', async () => {
    await writeLog();
    const p = await positions();
    // Make room after the fifth event by moving the later ones up, then copy the second event into the gap.
    for (const position of p.slice(5).reverse()) await harness.tamper(move(position, position + 1000));
    await harness.tamper(
      `INSERT INTO events (position, id, stream_id, stream_version, type, occurred_at, actor_type, actor_id, data,
         org_path, prev_hash, hash)
       SELECT ${p[4] + 1}, '${FORGED_ID}', stream_id, stream_version + 1000, type, occurred_at, actor_type, actor_id,
         data, org_path, prev_hash, hash FROM events WHERE position = ${p[1]}`,
    );
    expect(await verify()).toMatchObject({
      valid: false,
      events: 5,
      firstBreak: { kind: 'inserted', position: p[4] + 1, eventId: FORGED_ID },
    });
  });

  it('names reordered events: two that swapped places', async () => {
    await writeLog();
    const p = await positions();
    await harness.tamper(move(p[6], 100_000));
    await harness.tamper(move(p[7], p[6]));
    await harness.tamper(move(100_000, p[7]));
    expect(await verify()).toMatchObject({
      valid: false,
      events: 6,
      firstBreak: { kind: 'reordered', position: p[6] },
    });
  });

  describe('signed checkpoints', () => {
    let keyDir: string;
    let keys: SigningKeyRing;
    beforeEach(() => {
      keyDir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
      keys = SigningKeyRing.loadOrCreate(keyDir);
    });
    afterEach(() => rmSync(keyDir, { recursive: true, force: true }));

    const checkpoint = async (index: number): Promise<number> => {
      const link = (await store.readChainLinks(0, 100))[index];
      const head = { position: link.event.position, hash: link.hash as Uint8Array };
      await store.saveChainCheckpoint(head.position, signLogHead(keys, 'https://iam.test', head, index + 1));
      return head.position;
    };
    const verifyWithCheckpoints = () =>
      verifyEventChain((after, limit) => store.readChainLinks(after, limit), {
        pageSize: 4,
        checkpoints: storedCheckpoints(store, () => keys.jwks()),
      });

    it('keeps checkpoints in position order, the first one of a position, across reopen', async () => {
      expect(await store.lastChainCheckpoint()).toBeUndefined();
      await writeLog();
      const second = await checkpoint(6);
      const first = await checkpoint(2);
      await store.saveChainCheckpoint(first, 'a later copy');
      await store.close();
      store = await harness.reopen();
      const kept = await store.readChainCheckpoints(0, 10);
      expect(kept.map((c) => c.position)).toEqual([first, second]);
      expect(kept[0].jws).not.toBe('a later copy');
      expect((await store.readChainCheckpoints(first, 10)).map((c) => c.position)).toEqual([second]);
      expect(await store.lastChainCheckpoint()).toEqual(kept[1]);
      expect(await verifyWithCheckpoints()).toMatchObject({ valid: true, events: 10, checkpoints: 2 });
    });

    it('orders checkpoints by position as numbers, past 9, 99 and 999 too', async () => {
      for (const position of [1000, 9, 100, 99, 10]) await store.saveChainCheckpoint(position, `jws-${position}`);
      expect((await store.readChainCheckpoints(0, 10)).map((c) => c.position)).toEqual([9, 10, 99, 100, 1000]);
      expect((await store.readChainCheckpoints(9, 2)).map((c) => c.position)).toEqual([10, 99]);
      expect(await store.lastChainCheckpoint()).toEqual({ position: 1000, jws: 'jws-1000' });
    });

    it('names a log rewritten behind the store with every later hash recomputed, which the chain alone accepts', async () => {
      await writeLog();
      const signed = await checkpoint(7);
      const links = await store.readChainLinks(0, 100);
      // The attacker changes event 4 and recomputes the chain from there: only the signature betrays them.
      const forged = links.map((l, i) => (i === 3 ? { ...l, event: { ...l.event, data: { forged: true } } } : l));
      let prev = links[2].hash as Uint8Array;
      const updates: string[] = [];
      for (const link of forged.slice(3)) {
        const hash = chainHash(prev, link.event);
        const hex = (b: Uint8Array) => harness.bytes(Buffer.from(b).toString('hex'));
        updates.push(
          `UPDATE events SET data = '${JSON.stringify(link.event.data)}', prev_hash = ${hex(prev)}, hash = ${hex(hash)}
           WHERE position = ${link.event.position}`,
        );
        prev = hash;
      }
      await harness.tamper(updates.join('; '));
      expect(await verify()).toMatchObject({ valid: true, events: 10 });
      expect(await verifyWithCheckpoints()).toMatchObject({
        valid: false,
        firstBreak: { kind: 'rewritten', position: signed },
      });
    });

    it('names events cut from the end after a checkpoint, and a checkpoint that does not verify', async () => {
      await writeLog();
      const p = await positions();
      await checkpoint(9);
      await harness.tamper(
        `DELETE FROM event_orgs WHERE position >= ${p[8]}; DELETE FROM events WHERE position >= ${p[8]}`,
      );
      expect(await verifyWithCheckpoints()).toMatchObject({
        valid: false,
        events: 8,
        firstBreak: { kind: 'truncated', position: p[9] },
      });
      await harness.tamper(`UPDATE chain_checkpoints SET jws = 'forged' WHERE position = ${p[9]}`);
      expect(await verifyWithCheckpoints()).toMatchObject({
        valid: false,
        firstBreak: { kind: 'checkpoint', position: p[9] },
      });
    });

    it('skips, and counts, checkpoints signed by a key revoked since: no evidence either way, no break', async () => {
      await writeLog();
      const p = await positions();
      const leaked = keys.current.kid;
      await checkpoint(2);
      await checkpoint(9);
      keys.rotate(Date.now());
      const kept = await checkpoint(6);
      keys.revoke(leaked);
      expect(await verifyWithCheckpoints()).toMatchObject({ valid: true, checkpoints: 1, uncheckedCheckpoints: 2 });
      // A checkpoint of the revoked key past the end is no proof of a cut (it could have been forged)...
      await harness.tamper(
        `DELETE FROM event_orgs WHERE position = ${p[9]}; DELETE FROM events WHERE position = ${p[9]}`,
      );
      expect(await verifyWithCheckpoints()).toMatchObject({ valid: true, checkpoints: 1, uncheckedCheckpoints: 2 });
      // ...while a checkpoint of a key still held, altered, stays a break.
      const [stored] = (await store.readChainCheckpoints(kept - 1, 1)).filter((c) => c.position === kept);
      const [h, body, sig] = stored.jws.split('.');
      const other = sig.startsWith('A') ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
      await harness.tamper(`UPDATE chain_checkpoints SET jws = '${h}.${body}.${other}' WHERE position = ${kept}`);
      expect(await verifyWithCheckpoints()).toMatchObject({
        valid: false,
        uncheckedCheckpoints: 1,
        firstBreak: { kind: 'checkpoint', position: kept },
      });
    });
  });
}

/** Moves the event at `from` to the free position `to` (its organization index rows go: they reference it). */
const move = (from: number, to: number): string =>
  `DELETE FROM event_orgs WHERE position = ${from}; UPDATE events SET position = ${to} WHERE position = ${from}`;
