import { validationProblem } from './request-problems';
import { textFault } from './text-rules';
import { escapePointer } from './to-field-errors';

/**
 * Parses the query string of a request URL into single string values.
 *
 * The query is read from the URL rather than `req.query` because Express's parser is an app-wide setting
 * (and `extended` turns `a[b]=1` into nested objects). A repeated parameter is refused: the API never
 * accepts lists that way, and silently picking one value would hide client bugs. The result has no
 * prototype so that names like `__proto__` stay plain, reportable keys.
 */
export const parseQueryString = (url: string): Record<string, string> => {
  const result: Record<string, string> = Object.create(null);
  const start = url.indexOf('?');
  if (start === -1 || start === url.length - 1) return result;
  const raw = url.slice(start + 1);
  assertUtf8Escapes(raw, 'query');
  // Without repeatable names every value stays a single string.
  return collectUnique(new URLSearchParams(raw), result, 'query') as Record<string, string>;
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const ESCAPE_RUN = /(?:%[0-9a-fA-F]{2})+/g;

/** Whether every run of `%XX` escapes in `text` is well-formed UTF-8 (no stray bytes, no cut sequence, no surrogate). */
const escapesAreUtf8 = (text: string): boolean => {
  for (const [run] of text.matchAll(ESCAPE_RUN)) {
    try {
      UTF8.decode(Uint8Array.from(run.slice(1).split('%'), (hex) => parseInt(hex, 16)));
    } catch {
      return false;
    }
  }
  return true;
};

/**
 * Refuses (400) a query string or form body (`application/x-www-form-urlencoded`) whose percent-escapes are not
 * UTF-8 (WHATWG URL "application/x-www-form-urlencoded parsing" decodes them as UTF-8): URLSearchParams would read
 * each bad sequence as U+FFFD and a search for `%FF` would silently search for that character. A `%` that starts no
 * escape stays a literal `%`, as URLSearchParams reads it. The error names the parameter.
 */
export const assertUtf8Escapes = (raw: string, location: 'query' | 'body'): void => {
  if (!raw.includes('%')) return;
  for (const pair of raw.split('&')) {
    if (escapesAreUtf8(pair)) continue;
    const [name] = [...new URLSearchParams(pair).keys()];
    const what = location === 'query' ? 'query parameter' : 'form field';
    throw validationProblem(`The ${what} '${name}' holds percent-escapes that are not UTF-8.`, [
      { path: `/${location}/${escapePointer(name ?? '')}`, message: 'must be percent-encoded UTF-8' },
    ]);
  }
};

/**
 * Copies search params into `into`, refusing repeated names; shared with form bodies, which follow the same
 * rule. Names in `repeatable` are exempt: they are collected as arrays, however often they appear. A name or
 * value that `textFault` refuses (U+0000; `URLSearchParams` already turns bad UTF-8 into U+FFFD) is a 400.
 */
export const collectUnique = (
  params: URLSearchParams,
  into: Record<string, string | string[]>,
  location: 'query' | 'body',
  repeatable?: ReadonlySet<string>,
): Record<string, string | string[]> => {
  let repeated: string[] | undefined;
  for (const [name, value] of params) {
    const fault = textFault(name) ?? textFault(value);
    if (fault !== undefined)
      throw validationProblem(
        // eslint-disable-next-line no-control-regex
        `The ${location === 'query' ? 'query parameter' : 'form field'} '${name.replace(/\u0000/g, '\\0')}' holds text that cannot be stored.`,
        [{ path: `/${location}/${escapePointer(name)}`, message: fault }],
      );
    if (repeatable?.has(name)) ((into[name] ??= []) as string[]).push(value);
    else if (name in into) (repeated ??= []).push(name);
    else into[name] = value;
  }
  if (repeated !== undefined) {
    const names = [...new Set(repeated)];
    throw validationProblem(
      `The ${location === 'query' ? 'query parameter' : 'form field'} ${names.map((n) => `'${n}'`).join(', ')} must not be repeated.`,
      names.map((n) => ({ path: `/${location}/${escapePointer(n)}`, message: 'must not be repeated' })),
    );
  }
  return into;
};
