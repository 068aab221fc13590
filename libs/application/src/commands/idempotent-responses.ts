import type { StoredResponse } from '../ports/event-store';
import type { PersonalDataCipher } from '../security/personal-data-cipher';

/**
 * Responses kept for idempotent replays (contract section 1) that show a subject's personal data (a member's
 * email and name) are stored sealed under that subject's own key, like the personal data in the log: an
 * erasure by key destruction then reaches them too, and the event store never holds them in clear.
 */

/**
 * The response to store for replays, its body sealed under `subjectId`'s key exactly as given (any JSON
 * value; `undefined` is stored as null). The subject must already have a key (their data is in the log):
 * when they have none (erased meanwhile), no body is kept at all, and a replay rebuilds the response.
 */
export async function sealStoredBody(
  cipher: PersonalDataCipher,
  response: StoredResponse,
  subjectId: string,
): Promise<StoredResponse> {
  const { sealedBody: _previous, ...rest } = response;
  const sealed = await cipher.sealValueUnderExistingKey(subjectId, response.body ?? null);
  return sealed === null ? { ...rest, body: null } : { ...rest, body: null, sealedBody: { subjectId, sealed } };
}

/**
 * The stored response with its body opened: exactly the body that was sealed. When the subject's key has
 * been destroyed the body is null, as for a response not stored yet (the caller rebuilds it or answers that
 * the first request is in progress). A response without a sealed body is returned as it is.
 */
export async function openStoredBody(cipher: PersonalDataCipher, response: StoredResponse): Promise<StoredResponse> {
  if (!response.sealedBody) return response;
  const { sealedBody, ...rest } = response;
  const body = await cipher.openValue(sealedBody.subjectId, sealedBody.sealed);
  return { ...rest, body };
}
