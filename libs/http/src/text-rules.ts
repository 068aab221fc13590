/*
 * What text a request may carry at all, whatever the field. Two kinds of string are refused wherever they
 * arrive (JSON strings and member names, form fields, query parameters, path segments), before any schema:
 * - U+0000: PostgreSQL's `text` and `jsonb` cannot hold it, so the distributed profile would refuse (or, in a
 *   projection, never get past) what the embedded profile stored; it is never meaningful in identity data.
 * - lone UTF-16 surrogates (`"\ud800"` in JSON): not Unicode scalar values, so UTF-8 storage replaces them
 *   with U+FFFD and two different names read back alike (RFC 8259 §8.2 leaves their meaning undefined).
 */

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be accepted in a request (a field error message), or undefined when it can. */
export const textFault = (text: string): string | undefined => {
  if (text.includes('\u0000')) return 'must not contain U+0000';
  if (LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
};
