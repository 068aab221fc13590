import type { StoredEvent } from '@arbor/domain';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { ChainCheckpoint, CheckpointReader, UnverifiedCheckpoint } from './checkpoint-cursor';
import {
  chainHash,
  CHAIN_GENESIS,
  linkContent,
  MetadataDrops,
  metadataDropOf,
  requestMetadataDigest,
  verifyEventChain,
  type ChainLink,
  type ChainLinkReader,
} from './event-chain';

/** A log of `n` events on two streams, chained as a store writes them. */
function chainedLog(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev: Buffer = CHAIN_GENESIS;
  for (let i = 1; i <= n; i++) {
    const event: StoredEvent = {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: 'OrganizationRenamed',
      streamId: `org-${i % 2}`,
      streamVersion: Math.ceil(i / 2),
      position: i,
      occurredAt: `2026-12-01T10:00:${String(i).padStart(2, '0')}.000Z`,
      actor: { type: 'user', id: 'usr_1' },
      data: { orgId: `org-${i % 2}`, name: `Name ${i}`, nested: { b: 2, a: [1, 'x'] } },
      orgPath: [`org-${i % 2}`],
    };
    const hash = chainHash(prev, event);
    links.push({ event, prevHash: prev, hash });
    prev = hash;
  }
  return links;
}

/** Serves `links` as a store would: in the order given (the store's position order), after a position. */
const readerOf =
  (links: ChainLink[]): ChainLinkReader =>
  async (after, limit) =>
    links.filter((l) => l.event.position > after).slice(0, limit);

/** Renumbers positions 1..n in the array's order: what moving rows in a table looks like to a reader. */
const renumbered = (links: ChainLink[]): ChainLink[] =>
  links.map((l, i) => ({ ...l, event: { ...l.event, position: i + 1 } }));

describe('the event hash chain', () => {
  it('hashes the content in RFC 8785 form: key order and the position do not matter', () => {
    const [link] = chainedLog(1);
    const reordered = { ...link.event, data: { nested: { a: [1, 'x'], b: 2 }, name: 'Name 1', orgId: 'org-1' } };
    expect(chainHash(CHAIN_GENESIS, reordered).equals(link.hash as Buffer)).toBe(true);
    expect(chainHash(CHAIN_GENESIS, { ...link.event, position: 99 } as StoredEvent)).toEqual(link.hash);
    expect(linkContent(link.event)).toBe(
      '{"actor":{"id":"usr_1","type":"user"},"data":{"name":"Name 1","nested":{"a":[1,"x"],"b":2},"orgId":"org-1"},' +
        '"id":"00000000-0000-4000-8000-000000000001","occurredAt":"2026-12-01T10:00:01.000Z","orgPath":["org-1"],' +
        '"streamId":"org-1","streamVersion":1,"type":"OrganizationRenamed"}',
    );
  });

  it('writes exactly what canonicalize writes for the whole object, whatever the data', () => {
    const [link] = chainedLog(1);
    for (const data of [
      null,
      { z: 1, a: [3, { y: null, b: 'é\u2028"\\' }], m: 1e21, n: -0, f: 0.1, t: true },
      ['x', 2],
      'text',
      { '\u00e9': 1, e: 2, E: 3, '10': 4, '9': 5 },
    ]) {
      const event = { ...link.event, data };
      const { position: _p, ...rest } = event;
      expect(linkContent(event)).toBe(canonicalize({ ...rest, actor: { ...event.actor } }));
    }
  });

  it('accepts an intact log, page after page, and an empty one', async () => {
    const log = chainedLog(25);
    const progress: number[] = [];
    const report = await verifyEventChain(readerOf(log), { pageSize: 10, onProgress: (n) => progress.push(n) });
    expect(report).toEqual({
      valid: true,
      events: 25,
      checkpoints: 0,
      uncheckedCheckpoints: 0,
      head: { position: 25, hash: log[24].hash },
    });
    expect(progress).toEqual([10, 20, 25]);
    expect(await verifyEventChain(readerOf([]))).toEqual({
      valid: true,
      events: 0,
      checkpoints: 0,
      uncheckedCheckpoints: 0,
      head: { position: 0, hash: CHAIN_GENESIS },
    });
  });

  it('names an altered event: its data, its time, its actor or its hash changed', async () => {
    for (const alter of [
      (l: ChainLink) => ({ ...l, event: { ...l.event, data: { ...(l.event.data as object), name: 'Forged' } } }),
      (l: ChainLink) => ({ ...l, event: { ...l.event, occurredAt: '2026-12-01T09:00:00.000Z' } }),
      (l: ChainLink) => ({ ...l, event: { ...l.event, actor: { type: 'user' as const, id: 'usr_2' } } }),
      (l: ChainLink) => ({ ...l, hash: Buffer.alloc(32, 7) }),
    ]) {
      const log = chainedLog(12);
      log[6] = alter(log[6]);
      const report = await verifyEventChain(readerOf(log), { pageSize: 5 });
      expect(report).toMatchObject({ valid: false, events: 6, firstBreak: { kind: 'altered', position: 7 } });
      expect(report.head.position).toBe(6);
    }
  });

  it('names the event after a removed one, at the start, the middle or across a page boundary', async () => {
    for (const removed of [0, 5, 10]) {
      const log = chainedLog(12);
      log.splice(removed, 1);
      const report = await verifyEventChain(readerOf(log), { pageSize: 5 });
      expect(report).toMatchObject({ valid: false, firstBreak: { kind: 'removed', position: removed + 2 } });
    }
  });

  it('names the first inserted event, forged with care (chained onto its predecessor) or not', async () => {
    const forgedAfter = (link: ChainLink, position: number, prev: Uint8Array): ChainLink => {
      const event = { ...link.event, id: 'forged', position };
      return { event, prevHash: prev, hash: chainHash(prev, event) };
    };
    for (const careful of [true, false]) {
      const log = chainedLog(12);
      const prev = careful ? (log[3].hash as Uint8Array) : Buffer.alloc(32, 9);
      const first = forgedAfter(log[3], 4.5, prev);
      const second = forgedAfter(log[3], 4.6, first.hash as Uint8Array);
      log.splice(4, 0, first, second);
      const report = await verifyEventChain(readerOf(log), { pageSize: 3 });
      expect(report).toMatchObject({
        valid: false,
        firstBreak: { kind: 'inserted', position: 4.5, eventId: 'forged' },
      });
    }
  });

  it('names an inserted event whose own hash is wrong as inserted, not altered', async () => {
    const log = chainedLog(6);
    log.splice(2, 0, {
      event: { ...log[2].event, id: 'junk', position: 2.5 },
      prevHash: CHAIN_GENESIS,
      hash: CHAIN_GENESIS,
    });
    const report = await verifyEventChain(readerOf(log));
    expect(report).toMatchObject({ valid: false, firstBreak: { kind: 'inserted', position: 2.5, eventId: 'junk' } });
  });

  it('names reordered events: two swapped, or one moved to the end', async () => {
    const swapped = chainedLog(10);
    [swapped[3], swapped[4]] = [swapped[4], swapped[3]];
    const moved = chainedLog(10);
    moved.push(...moved.splice(2, 1));
    for (const [log, position] of [
      [swapped, 4],
      [moved, 3],
    ] as const) {
      const report = await verifyEventChain(readerOf(renumbered(log)), { pageSize: 4 });
      expect(report).toMatchObject({ valid: false, firstBreak: { kind: 'reordered', position } });
    }
  });

  it('names an event written before the chain existed', async () => {
    const log = chainedLog(3);
    log[0] = { ...log[0], prevHash: null, hash: null };
    const report = await verifyEventChain(readerOf(log));
    expect(report).toMatchObject({ valid: false, events: 0, firstBreak: { kind: 'unchained', position: 1 } });
  });

  describe('request metadata (issue 14: hashed by digest, droppable)', () => {
    const metadata = {
      requestId: 'req-1',
      sourceAddress: '203.0.113.7',
      userAgent: 'curl/8',
      token: { jti: 'j', sub: 's' },
    };
    /** The log of `chainedLog` with metadata on every other event, chained as a store writes it. */
    function withMetadata(n: number): ChainLink[] {
      let prev: Buffer = CHAIN_GENESIS;
      return chainedLog(n).map((link, i) => {
        const event: StoredEvent =
          i % 2 === 0
            ? { ...link.event, requestMetadata: metadata, metadataDigest: requestMetadataDigest(metadata) }
            : link.event;
        const hash = chainHash(prev, event);
        const chained = { event, prevHash: prev, hash };
        prev = hash;
        return chained;
      });
    }

    it('leaves the link content of an event without metadata exactly as before', () => {
      const [link] = chainedLog(1);
      const before = linkContent(link.event);
      expect(linkContent({ ...link.event, requestMetadata: undefined, metadataDigest: undefined })).toBe(before);
      expect(before).not.toContain('metadata');
    });

    it('hashes the digest in its RFC 8785 place, never the metadata itself', () => {
      const [link] = chainedLog(1);
      const digest = requestMetadataDigest(metadata);
      expect(digest).toBe(
        createHash('sha256')
          .update(
            canonicalize({
              requestId: 'req-1',
              sourceAddress: '203.0.113.7',
              token: { jti: 'j', sub: 's' },
              userAgent: 'curl/8',
            }) as string,
          )
          .digest('base64url'),
      );
      const event = { ...link.event, requestMetadata: metadata, metadataDigest: digest };
      const { position: _p, requestMetadata: _m, ...hashed } = event;
      expect(linkContent(event)).toBe(canonicalize({ ...hashed, actor: { ...event.actor } }));
      expect(linkContent(event)).not.toContain('req-1');
      expect(chainHash(CHAIN_GENESIS, { ...event, requestMetadata: null })).toEqual(chainHash(CHAIN_GENESIS, event));
      expect(chainHash(CHAIN_GENESIS, event)).not.toEqual(link.hash);
    });

    it('verifies a log whose metadata retention dropped, and names metadata changed or added as altered', async () => {
      const log = withMetadata(6);
      expect(await verifyEventChain(readerOf(log))).toMatchObject({ valid: true, events: 6 });
      const dropped = log.map((l) => ({ ...l, event: { ...l.event, requestMetadata: null } }));
      const drops = new MetadataDrops([{ position: 7, before: '2026-12-01T11:00:00.000Z', orgId: null }]);
      expect(await verifyEventChain(readerOf(dropped), { metadataDrops: drops })).toMatchObject({
        valid: true,
        events: 6,
      });
      const changed = [...log];
      changed[2] = {
        ...log[2],
        event: { ...log[2].event, requestMetadata: { ...metadata, sourceAddress: '10.0.0.1' } },
      };
      expect(await verifyEventChain(readerOf(changed))).toMatchObject({
        valid: false,
        firstBreak: { kind: 'altered', position: 3 },
      });
      const added = [...log];
      added[1] = { ...log[1], event: { ...log[1].event, requestMetadata: metadata } };
      expect(await verifyEventChain(readerOf(added))).toMatchObject({
        valid: false,
        firstBreak: { kind: 'altered', position: 2 },
      });
      const digestRemoved = [...log];
      digestRemoved[0] = { ...log[0], event: { ...log[0].event, requestMetadata: null, metadataDigest: undefined } };
      expect(await verifyEventChain(readerOf(digestRemoved))).toMatchObject({
        valid: false,
        firstBreak: { kind: 'altered', position: 1 },
      });
    });

    describe('gone only where a recorded retention drop covers it', () => {
      /** withMetadata(6) (metadata on positions 1, 3, 5, about org-1) with position 3's metadata gone. */
      const nulledAt3 = (): ChainLink[] => {
        const log = withMetadata(6);
        log[2] = { ...log[2], event: { ...log[2].event, requestMetadata: null } };
        return log;
      };
      const verifyWith = (log: ChainLink[], drops?: MetadataDrops) =>
        verifyEventChain(readerOf(log), { pageSize: 2, metadataDrops: drops });
      // Position 3 occurred at 10:00:03.
      const LATER = '2026-12-01T10:00:03.001Z';

      it('names metadata gone without a drop (absent as null), at that event', async () => {
        const expected = {
          valid: false,
          events: 2,
          firstBreak: {
            kind: 'metadata',
            position: 3,
            eventId: nulledAt3()[2].event.id,
            detail: expect.stringContaining('without a recorded retention drop'),
          },
        };
        expect(await verifyWith(nulledAt3())).toMatchObject(expected);
        expect(await verifyWith(nulledAt3(), new MetadataDrops())).toMatchObject(expected);
        const absent = withMetadata(6);
        const { requestMetadata: _gone, ...withoutMember } = absent[2].event;
        absent[2] = { ...absent[2], event: withoutMember };
        expect(await verifyWith(absent)).toMatchObject(expected);
      });

      it('accepts it under a later server-wide drop whose cutoff is after the event', async () => {
        const drops = new MetadataDrops([{ position: 4, before: LATER, orgId: null }]);
        expect(await verifyWith(nulledAt3(), drops)).toMatchObject({ valid: true, events: 6 });
      });

      it('does not accept it under a drop whose cutoff is not after the event', async () => {
        const at = new MetadataDrops([{ position: 4, before: '2026-12-01T10:00:03.000Z', orgId: null }]);
        expect(await verifyWith(nulledAt3(), at)).toMatchObject({ firstBreak: { kind: 'metadata', position: 3 } });
      });

      it('does not accept it under a drop at an earlier position, whatever its cutoff', async () => {
        const earlier = new MetadataDrops([{ position: 2, before: '2027-01-01T00:00:00.000Z', orgId: null }]);
        expect(await verifyWith(nulledAt3(), earlier)).toMatchObject({ firstBreak: { kind: 'metadata', position: 3 } });
        const same = new MetadataDrops([{ position: 3, before: '2027-01-01T00:00:00.000Z', orgId: null }]);
        expect(await verifyWith(nulledAt3(), same)).toMatchObject({ firstBreak: { kind: 'metadata', position: 3 } });
      });

      it('accepts it under an organization’s drop only when the organization is on the event’s path', async () => {
        const other = new MetadataDrops([{ position: 5, before: LATER, orgId: 'org-0' }]);
        expect(await verifyWith(nulledAt3(), other)).toMatchObject({ firstBreak: { kind: 'metadata', position: 3 } });
        const own = new MetadataDrops([{ position: 5, before: LATER, orgId: 'org-1' }]);
        expect(await verifyWith(nulledAt3(), own)).toMatchObject({ valid: true, events: 6 });
      });

      it('takes the latest cutoff among the later drops, and asks for drops recorded since before it rejects', async () => {
        const drops = new MetadataDrops([
          { position: 2, before: '2027-01-01T00:00:00.000Z', orgId: null },
          { position: 4, before: LATER, orgId: null },
          { position: 6, before: '2026-12-01T00:00:00.000Z', orgId: null },
        ]);
        expect(await verifyWith(nulledAt3(), drops)).toMatchObject({ valid: true, events: 6 });
        const asked: number[] = [];
        const late = new MetadataDrops([{ position: 2, before: LATER, orgId: null }], async (after) => {
          asked.push(after);
          return [{ position: 9, before: LATER, orgId: 'org-1' }];
        });
        expect(await verifyWith(nulledAt3(), late)).toMatchObject({ valid: true, events: 6 });
        expect(asked).toEqual([2]);
      });

      it('reads a drop from its RequestMetadataDropped event, and nothing from any other', () => {
        const event = { position: 8, type: 'RequestMetadataDropped', data: { before: LATER, orgId: 'org-1' } };
        expect(metadataDropOf(event)).toEqual({ position: 8, before: LATER, orgId: 'org-1' });
        expect(metadataDropOf({ ...event, data: { before: LATER, orgId: null } })).toMatchObject({ orgId: null });
        expect(metadataDropOf({ ...event, type: 'OrgAuditRetentionSet' })).toBeUndefined();
        expect(metadataDropOf({ ...event, data: { before: 'yesterday', orgId: null } })).toBeUndefined();
      });
    });
  });

  describe('with signed checkpoints', () => {
    const checkpointAt = (log: ChainLink[], i: number): ChainCheckpoint => ({
      position: log[i].event.position,
      hash: log[i].hash as Uint8Array,
      signedAt: 1_800_000_000,
      events: i + 1,
    });
    const reader =
      (checkpoints: Array<ChainCheckpoint | UnverifiedCheckpoint>): CheckpointReader =>
      async (after, limit) =>
        checkpoints.filter((c) => c.position > after).slice(0, limit);
    /** The log with event `i` changed and every hash from there recomputed: a chain that holds together. */
    function rewritten(log: ChainLink[], i: number): ChainLink[] {
      const copy = log.map((l) => ({ ...l }));
      copy[i] = { ...copy[i], event: { ...copy[i].event, data: { forged: true } } };
      let prev = (i === 0 ? CHAIN_GENESIS : copy[i - 1].hash) as Uint8Array;
      for (let j = i; j < copy.length; j++) {
        const hash = chainHash(prev, copy[j].event);
        copy[j] = { ...copy[j], prevHash: prev, hash };
        prev = hash;
      }
      return copy;
    }

    it('passes through every checkpoint of an intact log and counts them', async () => {
      const log = chainedLog(20);
      const report = await verifyEventChain(readerOf(log), {
        pageSize: 3,
        checkpoints: reader([checkpointAt(log, 4), checkpointAt(log, 9), checkpointAt(log, 19)]),
      });
      expect(report).toMatchObject({ valid: true, events: 20, checkpoints: 3 });
    });

    it('sees a log rewritten before a checkpoint with every later hash recomputed, which the chain alone accepts', async () => {
      const log = chainedLog(20);
      const forged = rewritten(log, 6);
      expect(await verifyEventChain(readerOf(forged))).toMatchObject({ valid: true });
      const report = await verifyEventChain(readerOf(forged), {
        checkpoints: reader([checkpointAt(log, 4), checkpointAt(log, 9)]),
      });
      expect(report).toMatchObject({ valid: false, checkpoints: 1, firstBreak: { kind: 'rewritten', position: 10 } });
    });

    it('sees events cut from the end, and a checkpoint naming an event the log no longer holds', async () => {
      const log = chainedLog(20);
      const cut = await verifyEventChain(readerOf(log.slice(0, 15)), { checkpoints: reader([checkpointAt(log, 17)]) });
      expect(cut).toMatchObject({ valid: false, events: 15, firstBreak: { kind: 'truncated', position: 18 } });
      // Event 10 and the hashes after it rewritten to leave it out: the chain holds, the checkpoint at 10 does not.
      const without = rewritten(
        log.filter((l) => l.event.position !== 10),
        9,
      );
      const gone = await verifyEventChain(readerOf(without), { checkpoints: reader([checkpointAt(log, 9)]) });
      expect(gone).toMatchObject({ valid: false, firstBreak: { kind: 'rewritten', position: 10 } });
    });

    it('names a stored checkpoint whose signature does not verify', async () => {
      const log = chainedLog(5);
      const report = await verifyEventChain(readerOf(log), {
        checkpoints: reader([{ position: 3, invalid: 'The signed head does not verify: invalid signature.' }]),
      });
      expect(report).toMatchObject({ valid: false, events: 2, firstBreak: { kind: 'checkpoint', position: 3 } });
    });

    it('starts after a trusted head when asked (a checkpoint writer verifies only what is new)', async () => {
      const log = chainedLog(10);
      const from = { position: 6, hash: log[5].hash as Uint8Array };
      expect(await verifyEventChain(readerOf(log), { from })).toMatchObject({ valid: true, events: 4 });
      const wrong = { position: 6, hash: log[4].hash as Uint8Array };
      expect(await verifyEventChain(readerOf(log), { from: wrong })).toMatchObject({ valid: false });
    });
  });
});
