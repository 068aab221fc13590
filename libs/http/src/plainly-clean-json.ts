/**
 * The fast path of the request body rules (duplicate-keys.ts): whether a JSON text that `JSON.parse` accepted
 * plainly breaks none of them, found in one tight pass over its UTF-16 code units.
 *
 * Conservative by construction: `true` only when the text nests at most `maxDepth` levels, repeats no member
 * name in one object, holds no number whose magnitude could exceed 2^53 − 1, and holds no escape sequence, no
 * U+0000 and no lone surrogate in any string; `false` whenever any of that is not plainly so (an escaped
 * string, a long number, a repeated name, deep nesting), and the caller then runs the exact scanner
 * (jsonStructureFault), which finds and names the fault, if any. So `true` implies that jsonStructureFault finds
 * nothing (with or without its `free` exemptions, which only relax rules), and the answer of the two together is
 * always jsonStructureFault's own.
 *
 * Why: jsonc-parser's scanner builds every token's value and costs about 1.7 µs on a 170-byte AuthZEN body,
 * more than `JSON.parse` itself; this pass costs a fraction of that (`node bench/duplicate-keys.mjs`).
 * Precondition: `text` is valid JSON (RFC 8259); on other text the answer means nothing.
 */
export const plainlyCleanJson = (text: string, maxDepth: number): boolean => {
  // An escape may spell U+0000 or a lone surrogate, or make two spellings of one name; a raw surrogate may be
  // lone: the exact scanner decides. Without any, every string ends at the next quote (found natively).
  if (ESCAPE_OR_SURROGATE.test(text)) return false;
  // One entry per open container: the member names read so far (undefined for an array, or none read yet).
  const names: (string[] | Set<string> | undefined)[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = text.indexOf('"', i + 1);
      const start = i + 1;
      i = end + 1;
      // A string is a member name when a colon follows it (the text is valid JSON).
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== 0x3a /* : */) continue;
      i++;
      const top = names.length - 1;
      const name = text.slice(start, end);
      const seen = names[top];
      if (seen === undefined) names[top] = [name];
      else if (Array.isArray(seen)) {
        if (seen.includes(name)) return false;
        // Past a few names a set beats a linear search.
        if (seen.length < 8) seen.push(name);
        else names[top] = new Set(seen).add(name);
      } else if (seen.has(name)) return false;
      else seen.add(name);
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (names.length >= maxDepth) return false;
      names.push(undefined);
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      names.pop();
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let exponent = false;
      for (let d = c; i < n && isNumberPart(d); d = text.charCodeAt(++i)) if (d === 0x65 || d === 0x45) exponent = true;
      // Fifteen characters or fewer without an exponent: at most 15 digits, below 10^15 < 2^53 − 1.
      if ((exponent || i - start > 15) && !(Math.abs(Number(text.slice(start, i))) <= Number.MAX_SAFE_INTEGER))
        return false;
    } else i++;
  }
  return true;
};

// eslint-disable-next-line no-control-regex
const ESCAPE_OR_SURROGATE = /[\\\u0000\ud800-\udfff]/;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Digits, sign, decimal point, exponent: what a JSON number token is made of. */
const isNumberPart = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
