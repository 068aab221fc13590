import type { Logger } from '../logger';
import type { EventStore, StoredCheckpoint } from '../ports/event-store';
import type { SigningKeyRing } from '../security/signing-key-ring';
import type { CheckedCheckpoint, CheckpointReader } from './checkpoint-cursor';
import { CHAIN_GENESIS, readMetadataDrops, verifyEventChain, type ChainHead } from './event-chain';
import { signLogHead, SignedHeadError, verifySignedHead } from './signed-head';

/**
 * A stored checkpoint as the verifier takes it: its signed head verified against `jwks` (the issuer's key set), and
 * naming the position it is stored under; an UncheckedCheckpoint when no key of the set has its `kid` (revoked since,
 * or another issuer's set); otherwise an UnverifiedCheckpoint saying why.
 */
export function checkpointOf(stored: StoredCheckpoint, jwks: { keys?: unknown }): CheckedCheckpoint {
  try {
    const claims = verifySignedHead(stored.jws, jwks);
    if (claims.position !== stored.position)
      return { position: stored.position, invalid: `it signs position ${claims.position}, not ${stored.position}.` };
    const hash = Buffer.from(claims.hash, 'base64url');
    return { position: stored.position, hash, signedAt: claims.iat, events: claims.events };
  } catch (e) {
    if (e instanceof SignedHeadError && e.code === 'ERR_JWKS_NO_MATCHING_KEY')
      return { position: stored.position, unchecked: e.message };
    if (e instanceof SignedHeadError) return { position: stored.position, invalid: e.message };
    throw e;
  }
}

/** The store's checkpoints, each verified against `jwks` (see checkpointOf), for verifyEventChain. */
export const storedCheckpoints =
  (store: Pick<EventStore, 'readChainCheckpoints'>, jwks: () => { keys?: unknown }): CheckpointReader =>
  async (after, limit) =>
    (await store.readChainCheckpoints(after, limit)).map((c) => checkpointOf(c, jwks()));

export interface ChainCheckpointOptions {
  store: EventStore;
  keys: SigningKeyRing;
  issuer: string;
  log: Logger;
  /** Between two checkpoints, in ms (IAM_LOG_CHECKPOINT_SECONDS); none is written when the log did not grow. */
  everyMs: number;
}

/**
 * The server's own checkpoints of the event log (issue 14, tamper evidence): every `everyMs` (the first after one
 * period), if the log grew, it
 * verifies the chain from its last checkpoint (the whole log the first time), then signs the head (signLogHead,
 * the ring's current key) and keeps it (`saveChainCheckpoint`). Someone who rewrites the log before a checkpoint
 * and recomputes every later hash is then caught by the signature they cannot make. A chain that does not verify
 * is not signed: the break is logged as an error at each try. Several processes may run it on one log (gateways):
 * a position keeps its first checkpoint. Returns `stop`; failures are logged and tried again at the next tick.
 */
export function startChainCheckpoints(options: ChainCheckpointOptions): { stop(): void } {
  let verified: { head: ChainHead; events: number } | undefined;
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const head = await options.store.headPosition();
      if (head === 0 || (verified !== undefined && verified.head.position >= head)) return;
      verified ??= await lastCheckpointed(options);
      // Only the drops after the last checkpoint can cover an event after it (a covering drop stands later).
      const report = await verifyEventChain((after, limit) => options.store.readChainLinks(after, limit), {
        from: verified.head,
        metadataDrops: await readMetadataDrops(options.store, verified.head.position),
      });
      if (!report.valid) {
        options.log.error('event log chain broken: no checkpoint signed', { ...report.firstBreak });
        return;
      }
      if (report.head.position === verified.head.position) return;
      const events = verified.events + report.events;
      const jws = signLogHead(options.keys, options.issuer, report.head, events);
      await options.store.saveChainCheckpoint(report.head.position, jws);
      verified = { head: report.head, events };
    } catch (error) {
      options.log.warn('event log checkpoint failed', { error: String(error) });
    } finally {
      running = false;
    }
  };
  // The first tick waits a period too: the first checkpoint of a log verifies all of it, which a starting server
  // should not pay before its first requests.
  const timer = setInterval(() => void tick(), options.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Where the checkpoints go on from: the last checkpoint's head and count, its signature checked with our own keys;
 * the genesis when there is none. When the last was signed by a key revoked since (no key of ours has its kid), the
 * last one a key of ours still verifies (or the genesis): the chain since is verified again and the head signed
 * with the current key, so a revocation costs the log the evidence of the revoked key's checkpoints, never its
 * checkpoints from then on. A checkpoint whose signature does not verify under a held key (the last, or one met on
 * the way back) is a break: thrown, nothing signed. Until the log grows past the revoked key's last checkpoint, the
 * position keeps that one (a position keeps its first), and each start looks back again.
 */
async function lastCheckpointed(options: ChainCheckpointOptions): Promise<{ head: ChainHead; events: number }> {
  const genesis: { head: ChainHead; events: number } = { head: { position: 0, hash: CHAIN_GENESIS }, events: 0 };
  const last = await options.store.lastChainCheckpoint();
  if (last === undefined) return genesis;
  const jwks = options.keys.jwks();
  const checked = checkpointOf(last, jwks);
  if ('invalid' in checked) throw new Error(`The last checkpoint does not verify: ${checked.invalid}`);
  if ('hash' in checked) return { head: { position: checked.position, hash: checked.hash }, events: checked.events };
  let found = genesis;
  for (let after = 0; ;) {
    const page = await options.store.readChainCheckpoints(after, 500);
    for (const stored of page) {
      const c = checkpointOf(stored, jwks);
      // As for the last one: a checkpoint a held key does not verify is a break, and nothing is signed over it.
      if ('invalid' in c) throw new Error(`The checkpoint at ${c.position} does not verify: ${c.invalid}`);
      if ('hash' in c) found = { head: { position: c.position, hash: c.hash }, events: c.events };
    }
    if (page.length < 500) break;
    after = page[page.length - 1].position;
  }
  options.log.warn('event log checkpoints go on from an earlier one: the last was signed by a key no longer held', {
    lastPosition: last.position,
    from: found.head.position,
  });
  return found;
}
