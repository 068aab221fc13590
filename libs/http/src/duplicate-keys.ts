import { SyntaxKind, createScanner } from 'jsonc-parser';
import { escapePointer } from './to-field-errors';

/** How deep a request body may nest (the body itself is level 1): far beyond any real request, far below a stack. */
export const MAX_JSON_DEPTH = 32;

/** What is wrong with the structure of a valid JSON text, if anything. */
export type JsonStructureFault = { kind: 'too-deep' } | { kind: 'duplicate'; pointer: string };

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
 *   the first repeated member.
 * Cost (`node bench/duplicate-keys.mjs`): a few microseconds on a 200-byte body, tens on 4 KiB.
 */
export const jsonStructureFault = (text: string, maxDepth = MAX_JSON_DEPTH): JsonStructureFault | undefined => {
  const scanner = createScanner(text, true);
  const stack: Frame[] = [];
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
      case SyntaxKind.StringLiteral:
        if (top?.object && top.expectName) {
          const name = scanner.getTokenValue();
          top.expectName = false;
          top.at = name;
          if (top.names!.has(name)) return { kind: 'duplicate', pointer: stack.map((f) => `/${escapePointer(String(f.at))}`).join('') };
          top.names!.add(name);
        }
        break;
      default:
        break;
    }
  }
  return undefined;
};
