import type { EventStore } from '../ports/event-store';
import { storedCheckpoints } from './chain-checkpoints';
import { verifyEventChain, type ChainVerification } from './event-chain';

/**
 * The whole verification of a store's log (`GET /api/v1/events/verify`, `arbor events verify`): the hash chain
 * (verifyEventChain), the stored checkpoints against `jwks` when given, then the organization index, which the chain
 * does not cover (it is derived from the hashed `orgPath`, and it decides what the event API's `orgId` filter, and so
 * a tenant client, reads): a mismatch is the break `index` at the first position concerned.
 */
export async function verifyEventLog(
  store: Pick<EventStore, 'readChainLinks' | 'readChainCheckpoints' | 'firstOrgIndexMismatch'>,
  options: { jwks?: () => { keys?: unknown }; onProgress?: (accepted: number, position: number) => void } = {},
): Promise<ChainVerification> {
  const report = await verifyEventChain((after, limit) => store.readChainLinks(after, limit), {
    checkpoints: options.jwks === undefined ? undefined : storedCheckpoints(store, options.jwks),
    onProgress: options.onProgress,
  });
  if (!report.valid) return report;
  const position = await store.firstOrgIndexMismatch();
  if (position === undefined) return report;
  return {
    valid: false,
    events: report.events,
    checkpoints: report.checkpoints,
    head: report.head,
    firstBreak: {
      kind: 'index',
      position,
      detail: `The organization index of event ${position} does not match its hashed orgPath: the event API's orgId filter would not answer what the log holds.`,
    },
  };
}
