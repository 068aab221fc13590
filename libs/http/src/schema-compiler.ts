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
  private readonly ajv: Record<SchemaMode, Ajv2020>;
  private readonly cache: Record<SchemaMode, Map<JsonSchema, ValidateFunction>> = {
    coercing: new Map(),
    exact: new Map(),
  };

  /**
   * `checkSchemas`: validate each schema against the JSON Schema meta-schema before compiling it. Our
   * schemas are fixed at build time and checked whenever responses are validated (every test run does),
   * so a server skips it: at start it cost half of the ~0.5 s spent compiling.
   */
  constructor(checkSchemas = true) {
    this.ajv = { coercing: createAjv(true, checkSchemas), exact: createAjv(false, checkSchemas) };
  }

  compile(mode: SchemaMode, schema: JsonSchema): ValidateFunction {
    let validate = this.cache[mode].get(schema);
    if (validate === undefined) {
      validate = this.ajv[mode].compile(withSharedSchemas(schema));
      this.cache[mode].set(schema, validate);
    }
    return validate;
  }
}

const EMAIL_ADDRESS =
  // eslint-disable-next-line no-control-regex
  /^(?=.{3,254}$)[^\s@\u0000-\u001f\u007f-\u009f]+@(?:[^\s@\u0000-\u001f\u007f-\u009f]+\.[^\s@\u0000-\u001f\u007f-\u009f]+|localhost)$/i;

const createAjv = (coercing: boolean, checkSchemas: boolean): Ajv2020 => {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    validateSchema: checkSchemas,
    coerceTypes: coercing,
    useDefaults: coercing,
  });
  addFormats(ajv);
  // `format: email` means what the domain accepts (libs/domain FieldChecks.email): one @, no spaces or
  // control characters, a dotted domain or `localhost` (RFC 6761; the default bootstrap admin is
  // admin@localhost). ajv-formats' own rule refuses dotless domains and non-ASCII addresses (RFC 6531).
  ajv.addFormat('email', EMAIL_ADDRESS);
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
