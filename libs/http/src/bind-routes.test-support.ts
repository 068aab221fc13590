import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { bindRoutes } from './bind-routes';
import { errorHandler } from './error-handler';
import { HttpProblem } from './http-problem';
import { notFoundHandler } from './not-found-handler';
import { problemResponse } from './problem-schema';
import type { RouteDefinition } from './route-definition';
import { defineRoute } from './route-definition';

/** Sample routes and a started server for the binder's integration tests; nothing IAM-specific. */

export interface Ctx {
  calls: string[];
}

export class ConflictError extends Error {}

const unauthenticated = (): HttpProblem =>
  new HttpProblem(401, 'IAM_ERR_UNAUTHENTICATED', 'Unauthorized', 'A valid bearer token is required.', undefined, {
    'WWW-Authenticate': 'Bearer',
  });

export const mapError = (err: unknown): HttpProblem =>
  err instanceof ConflictError
    ? new HttpProblem(409, 'IAM_ERR_NAME_TAKEN', 'Conflict', err.message)
    : new HttpProblem(500, 'IAM_ERR_INTERNAL', 'Internal Server Error', 'An unexpected error occurred.');

const orgBody = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, size: { type: 'integer' } },
  additionalProperties: false,
};

export const sampleRoutes: RouteDefinition<Ctx>[] = [
  defineRoute<Ctx>({
    operationId: 'listChildren',
    method: 'get',
    path: '/orgs/{orgId}/children',
    summary: 'List children',
    auth: 'bearer',
    request: {
      params: { type: 'object', required: ['orgId'], properties: { orgId: { type: 'integer', minimum: 1 } } },
      query: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          archived: { type: 'boolean', default: false },
          cursor: { type: 'string' },
        },
      },
    },
    responses: { 200: { description: 'ok', schema: { type: 'object' } } },
    handler: async (req, ctx) => {
      ctx.calls.push('listChildren');
      return { status: 200, body: { params: req.params, query: { ...req.query }, auth: req.auth } };
    },
  }),
  defineRoute<Ctx>({
    operationId: 'createOrg',
    method: 'post',
    path: '/orgs',
    summary: 'Create',
    auth: 'bearer',
    request: {
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', minLength: 8 } } },
      body: { schema: orgBody },
    },
    responses: { 201: { description: 'created', schema: { type: 'object' } }, 409: problemResponse('Name taken') },
    handler: async (req, ctx) => {
      ctx.calls.push('createOrg');
      // A plain JSON Schema types the body `unknown`: the handler narrows it (TypeBox schemas type it for it).
      if ((req.body as { name?: unknown }).name === 'taken') throw new ConflictError('The name is taken.');
      return {
        status: 201,
        body: { created: req.body, key: req.headers['idempotency-key'] ?? null },
        headers: { Location: '/orgs/1' },
      };
    },
  }),
  defineRoute<Ctx>({
    operationId: 'token',
    method: 'post',
    path: '/token',
    summary: 'Token',
    auth: 'none',
    request: {
      body: {
        contentTypes: ['application/x-www-form-urlencoded'],
        schema: {
          type: 'object',
          required: ['grant_type'],
          properties: {
            grant_type: { const: 'password' },
            username: { type: 'string' },
            password: { type: 'string' },
            ttl: { type: 'integer' },
          },
          additionalProperties: false,
        },
      },
    },
    responses: { 200: { description: 'ok', schema: { type: 'object' } } },
    handler: async (req) => ({ status: 200, body: { form: { ...(req.body as object) }, auth: req.auth ?? null } }),
  }),
  defineRoute<Ctx>({
    operationId: 'oauthToken',
    method: 'post',
    path: '/oauth2/token',
    summary: 'An OAuth endpoint: RFC 6749 errors, never cached',
    auth: 'none',
    errorFormat: 'oauth2',
    responseHeaders: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    request: {
      body: {
        contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
        repeatable: ['resource'],
        schema: {
          type: 'object',
          properties: {
            grant_type: { type: 'string' },
            resource: { type: ['string', 'array'], items: { type: 'string' } },
          },
        },
      },
    },
    responses: { 200: { description: 'ok', schema: { type: 'object' } } },
    handler: async (req) => {
      const form = req.body as Record<string, unknown>;
      if (form.grant_type === 'boom') throw new Error('secret detail');
      return { status: 200, body: { form: { ...form } }, headers: { 'X-Handler': 'yes' } };
    },
  }),
  defineRoute<Ctx>({
    operationId: 'boom',
    method: 'post',
    path: '/boom',
    summary: 'Fails',
    auth: 'none',
    request: { body: { schema: { type: 'object' } } },
    responses: { 200: { description: 'never' } },
    handler: async () => {
      throw new Error('connection string postgres://admin:hunter2@db');
    },
  }),
  defineRoute<Ctx>({
    operationId: 'badResponse',
    method: 'get',
    path: '/bad-response',
    summary: 'Breaks its schema',
    auth: 'none',
    responses: {
      200: { description: 'ok', schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
    },
    handler: async () => ({ status: 200, body: { id: 42 } }),
  }),
  defineRoute<Ctx>({
    operationId: 'undeclaredStatus',
    method: 'get',
    path: '/undeclared-status',
    summary: 'Returns a status it does not declare',
    auth: 'none',
    responses: { 200: { description: 'ok' } },
    handler: async () => ({ status: 202 }),
  }),
  defineRoute<Ctx>({
    operationId: 'deleteOrg',
    method: 'delete',
    path: '/orgs/{orgId}',
    summary: 'Delete',
    auth: 'none',
    request: {
      headers: {
        type: 'object',
        required: ['if-match'],
        properties: { 'if-match': { type: 'string', pattern: '^"\\d+"$' } },
      },
    },
    responses: { 204: { description: 'gone' } },
    // A body on a 204 must never reach the wire.
    handler: async (req) => ({ status: 204, body: { ifMatch: req.headers['if-match'] } }),
  }),
  defineRoute<Ctx>({
    operationId: 'patchOptional',
    method: 'patch',
    path: '/optional',
    summary: 'Optional body',
    auth: 'none',
    request: { body: { schema: { type: 'object' }, required: false } },
    responses: { 200: { description: 'ok', schema: { type: 'object' } } },
    handler: async (req) => ({ status: 200, body: { body: req.body ?? null } }),
  }),
];

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export interface SampleServer {
  ctx: Ctx;
  log: jest.Mock;
  base: string;
  call: (
    method: string,
    path: string,
    init?: { headers?: Record<string, string>; body?: RequestInit['body'] },
  ) => Promise<Reply>;
  close: () => Promise<void>;
}

export const bearer = { authorization: 'Bearer good' };

/** The sample routes under /api/v1 of a fresh app (no app-wide body parser), with responses validated. */
export const startSampleServer = async (): Promise<SampleServer> => {
  const ctx: Ctx = { calls: [] };
  const log = jest.fn();
  const app = express();
  app.use(
    '/api/v1',
    bindRoutes(sampleRoutes, {
      ctx,
      authenticate: async (req) => {
        if (req.headers.authorization !== bearer.authorization) throw unauthenticated();
        return { sub: 'user-1' };
      },
      mapError,
      validateResponses: true,
      log,
    }),
  );
  app.use('/api/v1', notFoundHandler());
  app.use(errorHandler(mapError, log));
  const { base, close } = await listen(app);
  const prefix = `${base}/api/v1`;
  return {
    ctx,
    log,
    base: prefix,
    close,
    call: async (method, path, init = {}) => {
      const res = await fetch(prefix + path, {
        method,
        headers: init.headers,
        body: init.body,
        duplex: 'half',
      } as RequestInit);
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
    },
  };
};

export const listen = async (app: express.Express): Promise<{ base: string; close: () => Promise<void> }> => {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
};

export const expectProblem = (reply: Reply, status: number, code: string): void => {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/problem+json');
  expect(reply.body).toMatchObject({
    type: `urn:arbor:error:${code}`,
    status,
    code,
    title: expect.any(String),
    detail: expect.any(String),
  });
};
