import { PARAM_SEGMENT } from './path-param-names';
import type { HttpMethod } from './route-definition';

/** What `RouteTable.match` found for a method and a path. */
export type RouteMatch<T> =
  | { kind: 'found'; value: T; params: Record<string, string> }
  /** The path exists, with other methods only (listed in `allow`, HEAD included where GET is). */
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'none' }
  /** A path parameter is not valid percent-encoding. */
  | { kind: 'bad-encoding' };

interface Entry<T> {
  method: string;
  /** Lower-cased literal segments; `null` where the template has a `{param}`. */
  literals: readonly (string | null)[];
  /** Parameter names by segment index. */
  names: readonly (string | undefined)[];
  /**
   * By segment index, for a parameter: the literals that another template has at that index after the same
   * leading segments (`me` for `{userId}` in `/users/{userId}/orgs`, given `/users/me`). A parameter never
   * takes one of them, so `me` is never read as an id.
   */
  reserved: (ReadonlySet<string> | undefined)[];
  value: T;
}

/**
 * Route lookup for OpenAPI path templates (`/orgs/{orgId}/children`), matched the way Express 5 matches the
 * same paths: literal segments case-insensitively, a parameter as one non-empty segment (percent-decoded),
 * an optional trailing slash, HEAD served by GET, and the first route added wins. It replaces Express's
 * router for the API: that router tests every layer's regular expression in turn and re-parses the URL at
 * each step, about a tenth of an authenticated GET. Here a lookup compares segments of the routes that have
 * as many segments as the path.
 *
 * One rule differs from Express: a literal segment shadows a parameter after the same leading segments. With
 * `/users/me` and `/users/{userId}` (or `/users/{userId}/orgs`), `me` never fills `{userId}`, whatever the
 * method: `DELETE /users/me` is a 405 of `/users/me`, `GET /users/me/orgs` no path at all (404), so that
 * OPTIONS never advertises a method that would then treat a reserved word as an id.
 */
export class RouteTable<T> {
  private readonly bySegments = new Map<number, Entry<T>[]>();
  /** Literals by the template prefix before them (parameters spelled `{}`), over every template. */
  private readonly literalsAfter = new Map<string, Set<string>>();
  private readonly entries: Entry<T>[] = [];

  add(method: HttpMethod, template: string, value: T): void {
    const parts = segmentsOf(template);
    const literals: (string | null)[] = [];
    const names: (string | undefined)[] = [];
    for (const part of parts) {
      const param = PARAM_SEGMENT.exec(part);
      literals.push(param === null ? part.toLowerCase() : null);
      names.push(param === null ? undefined : param[1]);
    }
    for (let i = 0; i < literals.length; i++) {
      const literal = literals[i];
      if (literal === null) continue;
      const prefix = prefixKey(literals, i);
      const set = this.literalsAfter.get(prefix) ?? new Set();
      set.add(literal);
      this.literalsAfter.set(prefix, set);
    }
    const entry: Entry<T> = { method: method.toUpperCase(), literals, names, reserved: [], value };
    this.entries.push(entry);
    const list = this.bySegments.get(parts.length) ?? [];
    list.push(entry);
    this.bySegments.set(parts.length, list);
    // A later template may reserve a word for an earlier one: recompute for all (a few dozen, at bind time).
    for (const e of this.entries)
      e.reserved = e.literals.map((l, i) =>
        l === null ? this.literalsAfter.get(prefixKey(e.literals, i)) : undefined,
      );
  }

  /** `pathname` is the request path without its query string, as sent (still percent-encoded). */
  match(method: string, pathname: string): RouteMatch<T> {
    const segments = segmentsOf(pathname);
    const entries = this.bySegments.get(segments.length);
    if (entries === undefined) return { kind: 'none' };
    let allow: Set<string> | undefined;
    for (const entry of entries) {
      if (!matches(entry, segments)) continue;
      if (entry.method === method || (method === 'HEAD' && entry.method === 'GET')) {
        const params = paramsOf(entry, segments);
        return params === undefined ? { kind: 'bad-encoding' } : { kind: 'found', value: entry.value, params };
      }
      allow ??= new Set();
      allow.add(entry.method);
      if (entry.method === 'GET') allow.add('HEAD');
    }
    return allow === undefined ? { kind: 'none' } : { kind: 'method-not-allowed', allow: [...allow] };
  }
}

/** The template's segments before index `i`, parameters as `{}`: `users/{}` for `/users/{id}/orgs` at 2. */
const prefixKey = (literals: readonly (string | null)[], i: number): string =>
  literals
    .slice(0, i)
    .map((l) => l ?? '{}')
    .join('/');

/** `/a/b/` and `/a/b` give `['a', 'b']`; `/` gives `['']`. */
const segmentsOf = (path: string): string[] => {
  const end = path.length > 1 && path.endsWith('/') ? path.length - 1 : path.length;
  return path.slice(1, end).split('/');
};

const matches = <T>(entry: Entry<T>, segments: readonly string[]): boolean => {
  for (let i = 0; i < segments.length; i++) {
    const literal = entry.literals[i];
    const segment = segments[i];
    if (literal === null) {
      if (segment === '') return false;
      const reserved = entry.reserved[i];
      if (reserved !== undefined && reserved.has(decodedLower(segment))) return false;
    } else if (segment !== literal && segment.toLowerCase() !== literal) {
      return false;
    }
  }
  return true;
};

/** A segment as a literal compares: lower-cased, percent-decoded when it can be (`M%65` is `me`). */
const decodedLower = (segment: string): string => {
  if (!segment.includes('%')) return segment.toLowerCase();
  try {
    return decodeURIComponent(segment).toLowerCase();
  } catch {
    return segment.toLowerCase();
  }
};

const paramsOf = <T>(entry: Entry<T>, segments: readonly string[]): Record<string, string> | undefined => {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const name = entry.names[i];
    if (name === undefined) continue;
    const raw = segments[i];
    if (!raw.includes('%')) {
      params[name] = raw;
      continue;
    }
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    // No resource's id holds U+0000 (see text-rules.ts); such a path names nothing.
    if (params[name].includes('\u0000')) return undefined;
  }
  return params;
};
