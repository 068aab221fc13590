import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { sharedSchemas } from './problem-schema';
import type { JsonSchema } from './route-definition';
import { escapePointer } from './to-field-errors';

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
      const rooted = withSharedSchemas(schema);
      validate = this.ajv[mode].compile(rooted);
      if (mode === 'coercing') validate = numbersInJsonSyntax(validate, rooted);
      this.cache[mode].set(schema, validate);
    }
    return validate;
  }
}

/** RFC 8259 section 6, JSON's number syntax: how a parameter that is a number must be written. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const JSON_INTEGER = /^-?(?:0|[1-9]\d*)$/;

/** `#/components/schemas/<name>`: the only form of `$ref` our route schemas use (see `withSharedSchemas`). */
const COMPONENT_REF = /^#\/components\/schemas\/([^/]+)$/;

/**
 * The syntax each top-level property accepts when it is a number (`integer` or `number` in its `type`, or in a
 * branch of its `anyOf` / `oneOf` / `allOf`, or in the shared schema its `$ref` names): Ajv's coercion reads a
 * string as a number whenever `Number()` does, so `?limit=0x10`, `1e1`, ` 5`, `05` and `+5` all passed as
 * numbers. `root` is the compiled schema, whose `components` resolve the references; `seen` stops a cycle.
 */
function numericSyntax(schema: unknown, root: JsonSchema, seen = new Set<unknown>()): RegExp | undefined {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return undefined;
  seen.add(schema);
  const s = schema as { type?: unknown; anyOf?: unknown[]; oneOf?: unknown[]; allOf?: unknown[]; $ref?: unknown };
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('number')) return JSON_NUMBER;
  if (types.includes('integer')) return JSON_INTEGER;
  const named = typeof s.$ref === 'string' ? COMPONENT_REF.exec(s.$ref)?.[1] : undefined;
  const components = (root.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
  const referenced = named === undefined ? [] : [components[named]];
  for (const branch of [...referenced, ...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) {
    const syntax = numericSyntax(branch, root, seen);
    if (syntax !== undefined) return syntax;
  }
  return undefined;
}

/**
 * `validate` for values that arrive as strings (query, path, headers, form fields), refusing first a numeric
 * property written other than in JSON's number syntax: a string that `Number()` reads as a finite number but
 * that is not a JSON number is a 400 at its path (`must be a number written in decimal`). A string that is no
 * number at all (`depth=all`) is left to the schema. Top-level properties only: these values are flat.
 */
function numbersInJsonSyntax(validate: ValidateFunction, schema: JsonSchema): ValidateFunction {
  const properties = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  const numeric = Object.entries(properties).flatMap(([name, property]) => {
    const syntax = numericSyntax(property, schema);
    return syntax === undefined ? [] : [{ name, syntax }];
  });
  if (numeric.length === 0) return validate;
  const strict = ((data: unknown) => {
    if (typeof data === 'object' && data !== null)
      for (const { name, syntax } of numeric) {
        const value = (data as Record<string, unknown>)[name];
        if (typeof value === 'string' && !syntax.test(value) && value.trim() !== '' && Number.isFinite(Number(value))) {
          strict.errors = [
            {
              instancePath: `/${escapePointer(name)}`,
              schemaPath: `#/properties/${escapePointer(name)}`,
              keyword: 'type',
              params: {},
              message:
                syntax === JSON_INTEGER
                  ? 'must be an integer written in decimal'
                  : 'must be a number written in decimal',
            },
          ];
          return false;
        }
      }
    const valid = validate(data);
    strict.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  strict.schema = validate.schema;
  return strict;
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
