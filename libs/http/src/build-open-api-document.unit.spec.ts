import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from './build-open-api-document';
import { PATH_CONVENTIONS } from './open-api-components';
import { problemResponse, problemSchema, problemSchemaRef } from './problem-schema';
import type { RouteDefinition } from './route-definition';
import { defineRoute } from './route-definition';

const handler = async () => ({ status: 204 });

const org = {
  type: 'object',
  required: ['id', 'name', 'description'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    description: { type: ['string', 'null'] },
  },
  additionalProperties: false,
};

const routes: RouteDefinition<{ db: string }>[] = [
  defineRoute({
    operationId: 'listChildren',
    method: 'get',
    path: '/orgs/{orgId}/children',
    summary: 'List the children of an organization',
    description: 'Direct children only.',
    tags: ['Organizations'],
    auth: 'bearer',
    permission: 'org:read',
    request: {
      params: { type: 'object', properties: { orgId: { type: 'string', format: 'uuid', description: 'The parent.' } } },
      query: {
        type: 'object',
        required: ['cursor'],
        properties: { limit: { type: 'integer', minimum: 1, default: 20 }, cursor: { type: 'string' } },
      },
    },
    responses: {
      200: {
        description: 'The children',
        schema: { type: 'object', properties: { items: { type: 'array', items: org } } },
        headers: { ETag: { description: 'Version of the parent', schema: { type: 'string' } } },
      },
      404: problemResponse('No such organization'),
    },
    handler,
  }),
  defineRoute({
    operationId: 'updateOrg',
    method: 'patch',
    path: '/orgs/{orgId}',
    summary: 'Update an organization',
    tags: ['Organizations'],
    auth: 'bearer',
    request: {
      // Undeclared path params are still documented, as OpenAPI requires.
      headers: {
        type: 'object',
        required: ['if-match'],
        properties: { 'if-match': { type: 'string' }, authorization: { type: 'string' } },
      },
      body: {
        schema: { type: 'object', properties: { name: { type: 'string' } } },
        contentTypes: ['application/merge-patch+json', 'application/json'],
      },
    },
    responses: { 200: { description: 'Updated', schema: org }, 412: problemResponse('Stale version') },
    handler,
  }),
  defineRoute({
    operationId: 'token',
    method: 'post',
    path: '/oauth/token',
    summary: 'Issue a token',
    tags: ['OAuth'],
    auth: 'none',
    request: {
      body: {
        schema: { type: 'object', required: ['grant_type'], properties: { grant_type: { type: 'string' } } },
        contentTypes: ['application/x-www-form-urlencoded'],
        required: false,
      },
    },
    responses: { 200: { description: 'A token', schema: { type: 'object' } } },
    handler,
  }),
];

const build = () =>
  buildOpenApiDocument(routes, {
    title: 'Arbor IAM',
    version: '1.2.3',
    description: 'IAM',
    basePath: '/api/v1/',
    serverUrl: 'https://iam.example',
  });

const op = (doc: any, path: string, method: string): any => doc.paths[path][method];

describe('buildOpenApiDocument', () => {
  it('emits an OpenAPI 3.1 header, servers, tags and shared components', () => {
    const doc: any = build();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'Arbor IAM', version: '1.2.3', description: `IAM\n\n${PATH_CONVENTIONS}` });
    expect(doc.servers).toEqual([{ url: 'https://iam.example' }]);
    expect(doc.tags).toEqual([{ name: 'Organizations' }, { name: 'OAuth' }]);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.components.schemas.Problem).toBe(problemSchema);
    expect(Object.keys(doc.components.schemas.Problem.properties)).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'code',
      'errors',
    ]);
  });

  it('keys paths by base path plus OpenAPI templated route path', () => {
    const doc: any = build();
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/oauth/token',
      '/api/v1/orgs/{orgId}',
      '/api/v1/orgs/{orgId}/children',
    ]);
    expect(Object.keys(doc.paths['/api/v1/orgs/{orgId}'])).toEqual(['patch']);
  });

  it('documents path, query and header parameters', () => {
    const doc: any = build();
    expect(op(doc, '/api/v1/orgs/{orgId}/children', 'get').parameters).toEqual([
      {
        name: 'orgId',
        in: 'path',
        required: true,
        schema: { type: 'string', format: 'uuid', description: 'The parent.' },
        description: 'The parent.',
      },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, default: 20 } },
      { name: 'cursor', in: 'query', required: true, schema: { type: 'string' } },
    ]);
    expect(op(doc, '/api/v1/orgs/{orgId}', 'patch').parameters).toEqual([
      { name: 'orgId', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'if-match', in: 'header', required: true, schema: { type: 'string' } },
    ]);
    expect(op(doc, '/api/v1/oauth/token', 'post').parameters).toBeUndefined();
  });

  it('documents request bodies per content type', () => {
    const doc: any = build();
    const patch = op(doc, '/api/v1/orgs/{orgId}', 'patch');
    expect(patch.requestBody.required).toBe(true);
    expect(Object.keys(patch.requestBody.content)).toEqual(['application/merge-patch+json', 'application/json']);
    expect(patch.requestBody.content['application/json'].schema).toBe(routes[1].request?.body?.schema);
    const token = op(doc, '/api/v1/oauth/token', 'post');
    expect(token.requestBody).toEqual({
      required: false,
      content: { 'application/x-www-form-urlencoded': { schema: routes[2].request?.body?.schema } },
    });
  });

  it('documents responses with content, headers and problem references', () => {
    const responses = op(build(), '/api/v1/orgs/{orgId}/children', 'get').responses;
    // Declared, then the failures any bearer route may answer (400, 401, 500, 503), ordered by status.
    expect(Object.keys(responses)).toEqual(['200', '400', '401', '404', '500', '503']);
    expect(responses['503'].headers['Retry-After']).toBeDefined();
    expect(responses['200'].headers).toEqual({
      ETag: { description: 'Version of the parent', schema: { type: 'string' } },
    });
    expect(Object.keys(responses['200'].content)).toEqual(['application/json']);
    expect(responses['404']).toEqual({
      description: 'No such organization',
      content: { 'application/problem+json': { schema: problemSchemaRef } },
    });
    expect(op(build(), '/api/v1/orgs/{orgId}/children', 'get').operationId).toBe('listChildren');
  });

  it('emits security, x-permission, summary, description and tags per operation', () => {
    const doc: any = build();
    const list = op(doc, '/api/v1/orgs/{orgId}/children', 'get');
    expect(list).toMatchObject({
      summary: 'List the children of an organization',
      description: 'Direct children only.',
      tags: ['Organizations'],
      security: [{ bearerAuth: [] }],
      'x-permission': 'org:read',
    });
    const token = op(doc, '/api/v1/oauth/token', 'post');
    expect(token.security).toEqual([]);
    expect(token).not.toHaveProperty('x-permission');
    expect(token).not.toHaveProperty('description');
  });

  it('emits only valid JSON Schema 2020-12 schemas, whose $refs resolve inside the document', () => {
    const doc: any = build();
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
    const schemas: unknown[] = [];
    const refs: string[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node !== null && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'schema') schemas.push(value);
          if (key === '$ref') refs.push(value as string);
          collect(value);
        }
      }
    };
    collect(doc.paths);
    schemas.push(...Object.values(doc.components.schemas));
    expect(schemas.length).toBeGreaterThan(10);

    const ajv = addFormats(new Ajv2020({ strict: true }));
    for (const schema of schemas) {
      expect(ajv.validateSchema(schema as object)).toBe(true);
    }
    expect(refs).toContain('#/components/schemas/Problem');
    for (const ref of refs) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce((node: any, key) => node?.[key], doc);
      expect(target).toBeDefined();
    }
  });

  it('refuses duplicate operation ids and duplicate operations', () => {
    const info = { title: 't', version: '1', basePath: '/api' };
    expect(() => buildOpenApiDocument([routes[0], routes[0]], info)).toThrow(/Duplicate operationId/);
    expect(() => buildOpenApiDocument([routes[0], { ...routes[0], operationId: 'other' }], info)).toThrow(
      /Duplicate operation GET/,
    );
  });

  it('names titled schemas: components.schemas[title] and a $ref wherever they are used', () => {
    const member = { title: 'Member', type: 'object', properties: { id: { type: 'string' } } };
    const page = { title: 'MemberPage', type: 'object', properties: { items: { type: 'array', items: member } } };
    const named = [
      defineRoute({
        operationId: 'a',
        method: 'get',
        path: '/a',
        summary: 'a',
        auth: 'none',
        responses: { 200: { description: 'a', schema: page } },
        handler,
      }),
      defineRoute({
        operationId: 'b',
        method: 'post',
        path: '/b',
        summary: 'b',
        auth: 'none',
        request: { body: { schema: member } },
        responses: { 201: { description: 'b', schema: member } },
        handler,
      }),
    ];
    const doc: any = buildOpenApiDocument(named, { title: 't', version: '1', basePath: '' });
    expect(op(doc, '/a', 'get').responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/MemberPage',
    });
    expect(doc.components.schemas.MemberPage.properties.items.items).toEqual({ $ref: '#/components/schemas/Member' });
    expect(op(doc, '/b', 'post').requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Member',
    });
    expect(doc.components.schemas.Member).toEqual(member);
    // The declarations themselves are untouched: the binder validates with them.
    expect(page.properties.items.items).toBe(member);

    const clash = {
      ...named[1],
      operationId: 'c',
      path: '/c',
      request: { body: { schema: { ...member, required: ['id'] } } },
    };
    expect(() => buildOpenApiDocument([...named, clash], { title: 't', version: '1', basePath: '' })).toThrow(
      /Two different schemas are titled 'Member'/,
    );
  });
});
