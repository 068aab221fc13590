import { MAX_JSON_NUMBER } from './duplicate-keys';
import { describedPattern } from './to-field-errors';
import type { JsonSchema } from './route-definition';

/** A string without U+0000 (text-rules.ts refuses it in every request: PostgreSQL cannot hold it). */
export const NO_NUL_PATTERN = describedPattern('^[^\\u0000]*$', 'must not hold the NUL character (U+0000)');

/**
 * Any JSON value the API keeps exactly (contract section 1), as JSON Schema: numbers within ±(2^53 − 1), strings
 * and member names without U+0000, at any depth (the keyword of each type applies to that type only). What the
 * body rules (jsonStructureFault) already enforce for every request, said in the document for free-form values
 * that are stored, such as an organization's `metadata`; a lone surrogate is refused too, which no pattern can
 * say. Published as `components.schemas.StoredJsonValue`; recursive through that reference.
 */
export const storedJsonValueSchema: JsonSchema = {
  description:
    'Any JSON value kept exactly: numbers within ±(2^53 − 1), strings and member names without U+0000 (contract section 1).',
  type: ['object', 'array', 'string', 'number', 'boolean', 'null'],
  minimum: -MAX_JSON_NUMBER,
  maximum: MAX_JSON_NUMBER,
  pattern: NO_NUL_PATTERN,
  propertyNames: { pattern: NO_NUL_PATTERN },
  additionalProperties: { $ref: '#/components/schemas/StoredJsonValue' },
  items: { $ref: '#/components/schemas/StoredJsonValue' },
};

/** A reference to it that resolves in the document and in the binder's validators (see sharedSchemas). */
export const storedJsonValueRef: JsonSchema = { $ref: '#/components/schemas/StoredJsonValue' };
