import { RouteTable, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from './api-context';
import { apiRoutes } from './create-api-app';

/*
 * OPTIONS and the other methods agree on every path of the API: each method that OPTIONS advertises on a path
 * reaches a route whose parameters hold no word that another route spells as a literal there (`me` is
 * never a user id). The paths tried are every template with its parameters filled by an id, and by every
 * literal that some template has at that position after the same leading segments.
 */

const routes = apiRoutes();
const table = new RouteTable<RouteDefinition<ApiContext>>();
for (const route of routes) table.add(route.method, route.path, route);

const segments = (template: string): string[] => template.split('/').slice(1);
const isParam = (segment: string): boolean => /^\{.+\}$/.test(segment);
const prefixOf = (parts: string[], i: number): string =>
  parts
    .slice(0, i)
    .map((p) => (isParam(p) ? '{}' : p.toLowerCase()))
    .join('/');

/** Literals by the leading segments before them, over every template. */
const literalsAfter = new Map<string, Set<string>>();
for (const route of routes) {
  const parts = segments(route.path);
  parts.forEach((part, i) => {
    if (isParam(part)) return;
    const key = prefixOf(parts, i);
    literalsAfter.set(key, (literalsAfter.get(key) ?? new Set()).add(part.toLowerCase()));
  });
}

/** Every concrete path a template stands for, in the sense above. */
function concretePaths(template: string): string[] {
  const parts = segments(template);
  let paths: string[][] = [[]];
  parts.forEach((part, i) => {
    const choices = isParam(part) ? ['id_1', ...(literalsAfter.get(prefixOf(parts, i)) ?? [])] : [part];
    paths = paths.flatMap((p) => choices.map((c) => [...p, c]));
  });
  return paths.map((p) => `/${p.join('/')}`);
}

const cases = [...new Set(routes.flatMap((r) => concretePaths(r.path)))].sort();

describe('OPTIONS advertises only methods that reach a route for the path', () => {
  it('covers the paths where a literal and a parameter meet', () => {
    expect(cases).toEqual(expect.arrayContaining(['/users/me', '/users/me/orgs', '/users/id_1', '/users/id_1/orgs']));
  });

  it.each(cases)('%s', (path) => {
    const options = table.match('OPTIONS', path);
    if (options.kind !== 'method-not-allowed') {
      // No route at all: every method is then a 404, OPTIONS included.
      expect(options.kind).toBe('none');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
        expect(table.match(method, path).kind).toBe('none');
      return;
    }
    for (const method of options.allow) {
      const found = table.match(method, path);
      expect({ method, kind: found.kind }).toEqual({ method, kind: 'found' });
      if (found.kind !== 'found') continue;
      const parts = segments(found.value.path);
      parts.forEach((part, i) => {
        if (!isParam(part)) return;
        const value = segments(path)[i].toLowerCase();
        expect({
          method,
          param: part,
          value,
          reserved: literalsAfter.get(prefixOf(parts, i))?.has(value) ?? false,
        }).toEqual({
          method,
          param: part,
          value,
          reserved: false,
        });
      });
    }
  });
});
