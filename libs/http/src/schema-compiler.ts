import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { sharedSchemas } from './problem-schema';
import type { JsonSchema } from './route-definition';

/**
 * `coercing`: params, query, headers and form bodies, whose values all arrive as strings.
 * `exact`: JSON bodies and responses, where JSON types must match as sent.
 */
export type SchemaMode = 'coercing' | 'exact';

/**
 * Compiles schemas once, at bind time. Validators are cached by schema object so a schema shared by many
 * routes compiles once (and a schema with an `$id` does not collide with itself).
 */
export class SchemaCompiler {
  private readonly ajv: Record<SchemaMode, Ajv2020> = {
    coercing: createAjv(true),
    exact: createAjv(false),
  };
  private readonly cache: Record<SchemaMode, Map<JsonSchema, ValidateFunction>> = {
    coercing: new Map(),
    exact: new Map(),
  };

  compile(mode: SchemaMode, schema: JsonSchema): ValidateFunction {
    let validate = this.cache[mode].get(schema);
    if (validate === undefined) {
      validate = this.ajv[mode].compile(withSharedSchemas(schema));
      this.cache[mode].set(schema, validate);
    }
    return validate;
  }
}

const createAjv = (coercing: boolean): Ajv2020 => {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    coerceTypes: coercing,
    useDefaults: coercing,
  });
  addFormats(ajv);
  return ajv;
};

/**
 * Route schemas reference `#/components/schemas/...` as the OpenAPI document resolves it; grafting the same
 * `components` onto the root makes those pointers resolve inside Ajv too (Ajv ignores the unknown keyword).
 */
const withSharedSchemas = (schema: JsonSchema): JsonSchema => {
  const own = (schema.components as { schemas?: Record<string, JsonSchema> } | undefined) ?? {};
  return { ...schema, components: { ...own, schemas: { ...sharedSchemas, ...own.schemas } } };
};
