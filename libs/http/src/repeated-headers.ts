/**
 * Request fields Arbor reads as one value and that must not come twice. Node's parser narrows a repeated
 * `Authorization` or `Content-Type` to its first line and joins a repeated `Idempotency-Key` into one value
 * (`"a, b"`), both silently; an intermediary that reads the other line would then judge another request than
 * Arbor answers (another client's credentials, another body type, another key). RFC 9110 section 5.3: a sender
 * must not repeat a field that is not a list; RFC 6749 section 2.3 and RFC 6750 section 3.1: one authentication
 * method per request. Lists (`If-Match`, `Accept`) may repeat.
 */
export const SINGLETON_REQUEST_HEADERS = ['authorization', 'content-type', 'idempotency-key'] as const;

/**
 * The first of SINGLETON_REQUEST_HEADERS that `rawHeaders` (Node's `IncomingMessage.rawHeaders`: name, value,
 * name, value..., names as sent) holds more than once, in lower case; `undefined` when none repeats.
 */
export function repeatedSingletonHeader(rawHeaders: readonly string[]): string | undefined {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    // The three names differ in length: one comparison rules out almost every other field.
    const index = name.length === 13 ? 0 : name.length === 12 ? 1 : name.length === 15 ? 2 : undefined;
    if (index === undefined) continue;
    const singleton = SINGLETON_REQUEST_HEADERS[index];
    if (name.toLowerCase() !== singleton) continue;
    const bit = 1 << index;
    if (seen & bit) return singleton;
    seen |= bit;
  }
  return undefined;
}
