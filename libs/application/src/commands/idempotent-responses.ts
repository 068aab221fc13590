import type { StoredResponse } from '../ports/event-store';
import type { PersonalDataCipher } from '../security/personal-data-cipher';

/**
 * Responses kept for idempotent replays (contract section 1) that show a subject's personal data (a member's
 * email and name) are stored sealed under that subject's own key, like the personal data in the log: an
 * erasure by key destruction then reaches them too, and the event store never holds them in clear.
 */

/**
 * Headers derived from the body, sealed with it: an ETag is a digest of the body's bytes (RFC 9110 section 8.8.3,
 * `representationTag`), which would let whoever reads the store check a guess of the email and name, erased or not.
 */
const SEALED_HEADERS = ['ETag'];

/**
 * The response to store for replays, its body sealed under `subjectId`'s key exactly as given (any JSON
 * value; `undefined` is stored as null), with the headers derived from it (SEALED_HEADERS). The subject must
 * already have a key (their data is in the log): when they have none (erased meanwhile), neither body nor those
 * headers are kept, and a replay rebuilds the response.
 */
export async function sealStoredBody(
  cipher: PersonalDataCipher,
  response: StoredResponse,
  subjectId: string,
): Promise<StoredResponse> {
  const { sealedBody: _previous, ...rest } = response;
  const headers = { ...response.headers };
  const derived: Record<string, string> = {};
  for (const name of SEALED_HEADERS)
    if (headers[name] !== undefined) {
      derived[name] = headers[name];
      delete headers[name];
    }
  const sealed = await cipher.sealValueUnderExistingKey(subjectId, response.body ?? null);
  if (sealed === null) return { ...rest, headers, body: null };
  const sealedHeaders =
    Object.keys(derived).length === 0 ? null : await cipher.sealValueUnderExistingKey(subjectId, derived);
  return {
    ...rest,
    headers,
    body: null,
    sealedBody: { subjectId, sealed, ...(sealedHeaders === null ? {} : { sealedHeaders }) },
  };
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
  // Stored before derived headers were sealed (no `sealedHeaders`), or the key is gone: the body alone, or null.
  if (sealedBody.sealedHeaders === undefined || body === null) return { ...rest, body };
  const headers = (await cipher.openValue(sealedBody.subjectId, sealedBody.sealedHeaders)) as Record<string, string>;
  return { ...rest, headers: { ...rest.headers, ...headers }, body };
}
