/**
 * Converts an OpenAPI path template (`/orgs/{orgId}`) into Express 5 syntax (`/orgs/:orgId`). Express 5
 * (path-to-regexp 8) gives `{}`, `()`, `[]`, `?`, `+`, `!`, `*` and `:` special meaning, so literal
 * occurrences are escaped to keep the route matching exactly the documented path.
 */
export const toExpressPath = (path: string): string => {
  if (!path.startsWith('/')) throw new Error(`Route path must start with '/': ${path}`);
  let out = '';
  let last = 0;
  for (const m of path.matchAll(PARAM)) {
    out += escapeLiteral(path.slice(last, m.index)) + ':' + m[1];
    last = m.index + m[0].length;
  }
  return out + escapeLiteral(path.slice(last));
};

/** The names of the `{param}`s in an OpenAPI path template, in order. */
export const pathParamNames = (path: string): string[] => [...path.matchAll(PARAM)].map((m) => m[1]);

const PARAM = /\{([A-Za-z_$][\w$]*)\}/g;

const escapeLiteral = (s: string): string => s.replace(/[{}()[\]?+!*:\\]/g, '\\$&');
