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
  // Without repeatable names every value stays a single string.
  return collectUnique(new URLSearchParams(url.slice(start + 1)), result, 'query') as Record<string, string>;
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
