import { API_VERSION, accessRoutes, apiRoutes } from './create-api-app';
import { describeApi } from './routes/openapi-route';

/*
 * Completeness rules for the OpenAPI document (issue 11, item 11), checked on every operation the API
 * binds, so a route added later (in any branch) is held to them too: code generators get a named type for
 * every body, and clients learn every status the server may answer.
 */
const doc: any = describeApi(apiRoutes(), API_VERSION, 'https://iam.example.org', accessRoutes());
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operations: [string, any][] = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(
  ([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]): [string, any] => [`${method.toUpperCase()} ${path}`, op]),
);
const contentsOf = (node: { content?: Record<string, { schema: any }> } | undefined) =>
  Object.entries(node?.content ?? {});
const isNamed = (schema: any) =>
  typeof schema?.$ref === 'string' &&
  doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] !== undefined;

/** Every schema in the document (components, parameters, bodies, responses, and all their sub-schemas). */
const allSchemas = (which: 'all' | 'request bodies' = 'all'): any[] => {
  const out: any[] = [];
  const visit = (schema: any): void => {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return;
    out.push(schema);
    for (const key of ['items', 'not', 'additionalProperties', 'unevaluatedProperties', 'contains']) visit(schema[key]);
    for (const key of ['properties', 'patternProperties', '$defs'])
      for (const sub of Object.values(schema[key] ?? {})) visit(sub);
    for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems']) for (const sub of schema[key] ?? []) visit(sub);
  };
  const resolved = (schema: any) =>
    schema?.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
  if (which === 'request bodies') {
    for (const [, op] of operations) for (const [, media] of contentsOf(op.requestBody)) visit(resolved(media.schema));
    return out;
  }
  Object.values(doc.components.schemas).forEach(visit);
  for (const [, op] of operations) {
    for (const p of op.parameters ?? []) visit(p.schema);
    for (const [, media] of contentsOf(op.requestBody)) visit(media.schema);
    for (const response of Object.values(op.responses) as any[])
      for (const [, media] of contentsOf(response)) visit(media.schema);
  }
  return out;
};

describe('the OpenAPI document describes every operation completely', () => {
  it('has operations to check, a license, and a description for every tag', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(doc.info.license.identifier).toBe('Apache-2.0');
    for (const tag of doc.tags) expect([tag.name, typeof tag.description]).toEqual([tag.name, 'string']);
  });

  it.each(operations)('%s: named request and response bodies, required when declared', (_name, op) => {
    if (op.requestBody !== undefined) {
      expect(op.requestBody.required).toBe(true);
      for (const [type, media] of contentsOf(op.requestBody))
        expect([type, isNamed(media.schema)]).toEqual([type, true]);
    }
    for (const [status, response] of Object.entries(op.responses) as [string, any][])
      for (const [type, media] of contentsOf(response))
        expect([status, type, isNamed(media.schema)]).toEqual([status, type, true]);
  });

  it.each(operations)('%s: every status the server may answer', (_name, op) => {
    const statuses = Object.keys(op.responses);
    const expected = ['400', '500', '503'];
    if (JSON.stringify(op.security) === JSON.stringify([{ bearerAuth: [] }])) expected.push('401');
    if (op.requestBody !== undefined) expected.push('413', '415');
    for (const status of expected) expect(statuses).toContain(status);
    expect(statuses.some((s) => s.startsWith('2'))).toBe(true);
    for (const header of ['Retry-After']) expect(op.responses['503'].headers?.[header]).toBeDefined();
    if (op.responses['429'] !== undefined) expect(op.responses['429'].headers?.['Retry-After']).toBeDefined();
  });

  it.each(operations)('%s: an operation that may answer 401 says how to authenticate', (_name, op) => {
    if (op.responses['401'] === undefined) return;
    expect(op.security.length).toBeGreaterThan(0);
    for (const requirement of op.security)
      for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes[scheme]).toBeDefined();
  });

  it('types every email a request body takes as format: email, and every required property as declared', () => {
    for (const schema of allSchemas('request bodies'))
      for (const [name, property] of Object.entries(schema.properties ?? {}) as [string, any][])
        if (/^email$/i.test(name)) expect([name, property.format]).toEqual([name, 'email']);
    for (const schema of allSchemas()) {
      if (schema.properties !== undefined && schema.additionalProperties === false)
        for (const name of schema.required ?? []) expect(Object.keys(schema.properties)).toContain(name);
    }
  });

  it('requires what the OAuth endpoints require (RFC 6749 grant_type, RFC 7662/7009 token)', () => {
    const bodyOf = (path: string) => {
      const media = doc.paths[path].post.requestBody.content['application/x-www-form-urlencoded'].schema;
      return doc.components.schemas[media.$ref.replace('#/components/schemas/', '')];
    };
    expect(bodyOf('/api/v1/auth/tokens').required).toContain('grant_type');
    expect(bodyOf('/api/v1/auth/tokens/introspect').required).toContain('token');
    expect(bodyOf('/api/v1/auth/tokens/revoke').required).toContain('token');
  });

  it('says that a member is added either by userId or by email (oneOf)', () => {
    const media = doc.paths['/api/v1/orgs/{orgId}/users'].post.requestBody.content['application/json'].schema;
    const body = doc.components.schemas[media.$ref.replace('#/components/schemas/', '')];
    expect(body.oneOf).toHaveLength(2);
  });
});
