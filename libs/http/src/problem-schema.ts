import { PROBLEM_CONTENT_TYPE } from './http-problem';
import { storedJsonValueSchema } from './json-value-schema';
import type { JsonSchema, ResponseSpec } from './route-definition';

/** The RFC 9457 problem body as JSON Schema; published as `components.schemas.Problem`. */
export const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details, extended with a stable error code and per-field errors.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri-reference', description: 'urn:arbor:error:<code>' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 100, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable machine-readable error code.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', description: 'JSON pointer into the request, e.g. /body/name.' },
          message: { type: 'string' },
        },
        additionalProperties: false,
      },
    },
  },
};

/**
 * A reference that resolves both in the OpenAPI document and in the binder's response validators, which
 * compile every schema with the same `components.schemas` alongside it.
 */
export const problemSchemaRef: JsonSchema = { $ref: '#/components/schemas/Problem' };

/** The `components.schemas` every document carries and every validator can resolve `$ref`s into. */
export const sharedSchemas: Record<string, JsonSchema> = {
  Problem: problemSchema,
  StoredJsonValue: storedJsonValueSchema,
};

export const problemResponse = (description: string): ResponseSpec => ({
  description,
  contentType: PROBLEM_CONTENT_TYPE,
  schema: problemSchemaRef,
});
