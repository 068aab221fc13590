import type { RequestMetadata, StoredRequestMetadata } from '@arbor/domain';
import type { PersonalDataCipher } from '../security/personal-data-cipher';
import type { CommandPrincipal } from './authorize-command';

/**
 * What the transport knows of the request that carries a command (the embedded route, or the gateway over the
 * internal command API): its id, the client's address and user agent. Never the token: the command service
 * takes the token's identifiers from the principal it verified itself.
 */
export interface RequestOrigin {
  /** 1-200 visible ASCII characters (see `requestIdOf` in @arbor/api). */
  requestId: string;
  sourceAddress?: string;
  userAgent?: string;
}

/**
 * The request metadata a command's events record (issue 14, complete audit data), as the log keeps it:
 * - a user's: sealed under the user's own data key (`PersonalDataCipher.sealRequestRecord`, the
 *   `{sealed, subjectId}` form), so that erasing the user erases it; none when the user has no key (erased), unless
 *   another process read it within the last 5 s (then it is sealed under the destroyed key, and reads as erased);
 * - a client's: in clear (a machine's request; no person's key to seal it under; retention drops it);
 * - the system's (bootstrap, the CLI on the server): none, since no request carries those commands.
 * Undefined when there is nothing to record. Sealing reads the vault: call it before the write transaction.
 */
export async function requestMetadataOf(
  cipher: PersonalDataCipher,
  principal: CommandPrincipal,
  origin: RequestOrigin | undefined,
): Promise<StoredRequestMetadata | undefined> {
  if (origin === undefined || principal === 'system') return undefined;
  const metadata: RequestMetadata = { requestId: origin.requestId };
  if (origin.sourceAddress !== undefined) metadata.sourceAddress = origin.sourceAddress;
  if (origin.userAgent !== undefined) metadata.userAgent = origin.userAgent;
  if (principal.type === 'client') {
    metadata.token = { jti: principal.tokenId, sub: principal.clientId, clientId: principal.clientId };
    return metadata;
  }
  metadata.token = { jti: principal.tokenId, sub: principal.id };
  if (principal.sessionId !== undefined) metadata.token.sid = principal.sessionId;
  const sealed = await cipher.sealRequestRecord(principal.id, metadata);
  return sealed === null ? undefined : { sealed, subjectId: principal.id };
}

/**
 * The request metadata of a stored event as a reader with the vault sees it: in clear, `{erased: true}` when it
 * was sealed for a user whose key is gone, `{dropped: true}` when retention removed it (its digest stays in the
 * chain), undefined when the event has none.
 */
export async function openRequestMetadata(
  cipher: PersonalDataCipher,
  event: { requestMetadata?: StoredRequestMetadata | null },
): Promise<RequestMetadata | { erased: true } | { dropped: true } | undefined> {
  const stored = event.requestMetadata;
  if (stored === undefined) return undefined;
  if (stored === null) return { dropped: true };
  if (!('sealed' in stored)) return stored;
  const opened = (await cipher.openValue(stored.subjectId, stored.sealed)) as RequestMetadata | null;
  return opened ?? { erased: true };
}
