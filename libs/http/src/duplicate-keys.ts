import { SyntaxKind, createScanner } from 'jsonc-parser';
import { plainlyCleanJson } from './plainly-clean-json';
import { textFault } from './text-rules';
import type { JsonPath } from './free-values';
import { escapePointer } from './to-field-errors';

/** How deep a request body may nest (the body itself is level 1): far beyond any real request, far below a stack. */
export const MAX_JSON_DEPTH = 32;

/** The largest magnitude a JSON number may have: beyond it a double no longer holds every integer exactly. */
export const MAX_JSON_NUMBER = Number.MAX_SAFE_INTEGER;

/** What is wrong with a valid JSON text, if anything; `pointer` (RFC 6901) names the member or element. */
export type JsonStructureFault =
  | { kind: 'too-deep' }
  | { kind: 'duplicate'; pointer: string }
  /** A number beyond ±(2^53 − 1), infinite once parsed (`1e400`), or rounded (`9007199254740993`). */
  | { kind: 'number'; pointer: string }
  /** A string (a member name or a value) that `textFault` refuses (U+0000, a lone surrogate); `message` says why. */
  | { kind: 'text'; pointer: string; message: string };

interface Frame {
  object: boolean;
  /** Object: member names seen so far; undefined for arrays. */
  names?: Set<string>;
  /** Object: the name of the member being read; array: the index of the element being read. */
  at: string | number;
  expectName: boolean;
}

/**
 * Checks a JSON text that `JSON.parse` accepted, in one pass with jsonc-parser's scanner (iterative: no
 * recursion, so no depth overflows it):
 * - nesting deeper than `maxDepth` is refused before anything recursive (schema validation, canonical JSON,
 *   `JSON.stringify`) sees the value;
 * - a member name repeated in one object is refused: `JSON.parse` keeps the last of two equal names without
 *   a word, so `{"scope": "a", "scope": "b"}` would mean whatever the last writer wanted. The pointer names
 *   the first repeated member;
 * - a number whose magnitude exceeds 2^53 − 1 is refused: `JSON.parse` turns `1e400` into Infinity (stored as
 *   `null` by `JSON.stringify`) and rounds `9007199254740993` to its neighbour, so the value kept would not be
 *   the value sent (a fraction within the bound is kept as the nearest double, as JSON implies);
 * - a string or member name that `textFault` refuses is refused (text-rules.ts): a lone surrogate is not
 *   Unicode text and cannot be stored as UTF-8 without loss (it becomes U+FFFD, equal to any other such name);
 *   U+0000 cannot be stored by PostgreSQL.
 * `free` (optional) names locations whose values nobody reads (freeValueTest: a route that `ignoresFreeValues`):
 * the number and text rules, which exist so that what is kept is what was sent, are not applied there; depth
 * and repeated names still are.
 * A text that plainly breaks none of these rules (plainlyCleanJson: no escapes, short numbers, the usual case)
 * is passed by a tight pass first; the scanner then runs only on the others, and names their fault.
 * Cost (`node bench/duplicate-keys.mjs`): well under a microsecond on a plain 200-byte body, a few on 4 KiB.
 */
export const jsonStructureFault = (
  text: string,
  maxDepth = MAX_JSON_DEPTH,
  free?: (path: JsonPath) => boolean,
): JsonStructureFault | undefined =>
  plainlyCleanJson(text, maxDepth) ? undefined : scanJsonStructure(text, maxDepth, free);

/** jsonStructureFault without its fast path: the exact scan, token by token (exported for the fast path's tests). */
export const scanJsonStructure = (
  text: string,
  maxDepth: number,
  free?: (path: JsonPath) => boolean,
): JsonStructureFault | undefined => {
  const scanner = createScanner(text, true);
  const stack: Frame[] = [];
  const here = (): string => stack.map((f) => `/${escapePointer(String(f.at))}`).join('');
  const kept = (): boolean => free === undefined || !free(stack.map((f) => f.at));
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    const top = stack[stack.length - 1];
    switch (token) {
      case SyntaxKind.OpenBraceToken:
      case SyntaxKind.OpenBracketToken: {
        if (stack.length >= maxDepth) return { kind: 'too-deep' };
        const object = token === SyntaxKind.OpenBraceToken;
        stack.push({ object, names: object ? new Set() : undefined, at: object ? '' : 0, expectName: object });
        break;
      }
      case SyntaxKind.CloseBraceToken:
      case SyntaxKind.CloseBracketToken:
        stack.pop();
        break;
      case SyntaxKind.CommaToken:
        if (top?.object) top.expectName = true;
        else if (top) top.at = (top.at as number) + 1;
        break;
      case SyntaxKind.StringLiteral: {
        const value = scanner.getTokenValue();
        if (top?.object && top.expectName) {
          top.expectName = false;
          top.at = value;
          if (top.names!.has(value)) return { kind: 'duplicate', pointer: here() };
          top.names!.add(value);
        }
        const message = textFault(value);
        if (message !== undefined && kept()) return { kind: 'text', pointer: here(), message };
        break;
      }
      case SyntaxKind.NumericLiteral:
        // NaN cannot come from a JSON number; `!(<=)` also catches Infinity.
        if (!(Math.abs(Number(scanner.getTokenValue())) <= MAX_JSON_NUMBER) && kept())
          return { kind: 'number', pointer: here() };
        break;
      default:
        break;
    }
  }
  return undefined;
};
