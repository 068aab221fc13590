import type { EventStore } from '../ports/event-store';
import { storedCheckpoints } from './chain-checkpoints';
import { readMetadataDrops, verifyEventChain, type ChainVerification } from './event-chain';

/**
 * The whole verification of a store's log (`GET /api/v1/events/verify`, `arbor events verify`): the hash chain
 * (verifyEventChain), the stored checkpoints against `jwks` when given, then the organization index, which the chain
 * does not cover (it is derived from the hashed `orgPath`, and it decides what the event API's `orgId` filter, and so
 * a tenant client, reads): a mismatch is the break `index` at the first position concerned. The recorded retention
 * drops (RequestMetadataDropped) are read first: request metadata gone where none covers it breaks the chain.
 */
export async function verifyEventLog(
  store: Pick<EventStore, 'readAll' | 'readChainLinks' | 'readChainCheckpoints' | 'firstOrgIndexMismatch'>,
  options: { jwks?: () => { keys?: unknown }; onProgress?: (accepted: number, position: number) => void } = {},
): Promise<ChainVerification> {
  const report = await verifyEventChain((after, limit) => store.readChainLinks(after, limit), {
    checkpoints: options.jwks === undefined ? undefined : storedCheckpoints(store, options.jwks),
    onProgress: options.onProgress,
    metadataDrops: await readMetadataDrops(store),
  });
  if (!report.valid) return report;
  const position = await store.firstOrgIndexMismatch();
  if (position === undefined) return report;
  return {
    valid: false,
    events: report.events,
    checkpoints: report.checkpoints,
    uncheckedCheckpoints: report.uncheckedCheckpoints,
    head: report.head,
    firstBreak: {
      kind: 'index',
      position,
      detail: `The organization index of event ${position} does not match its hashed orgPath: the event API's orgId filter would not answer what the log holds.`,
    },
  };
}
