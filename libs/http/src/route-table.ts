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
  value: T;
}

/**
 * Route lookup for OpenAPI path templates (`/orgs/{orgId}/children`), matched the way Express 5 matches the
 * same paths: literal segments case-insensitively, a parameter as one non-empty segment (percent-decoded),
 * an optional trailing slash, HEAD served by GET, and the first route added wins. It replaces Express's
 * router for the API: that router tests every layer's regular expression in turn and re-parses the URL at
 * each step, about a tenth of an authenticated GET. Here a lookup compares segments of the routes that have
 * as many segments as the path.
 */
export class RouteTable<T> {
  private readonly bySegments = new Map<number, Entry<T>[]>();

  add(method: HttpMethod, template: string, value: T): void {
    const parts = segmentsOf(template);
    const literals: (string | null)[] = [];
    const names: (string | undefined)[] = [];
    for (const part of parts) {
      const param = PARAM_SEGMENT.exec(part);
      literals.push(param === null ? part.toLowerCase() : null);
      names.push(param === null ? undefined : param[1]);
    }
    const list = this.bySegments.get(parts.length) ?? [];
    list.push({ method: method.toUpperCase(), literals, names, value });
    this.bySegments.set(parts.length, list);
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
    } else if (segment !== literal && segment.toLowerCase() !== literal) {
      return false;
    }
  }
  return true;
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
