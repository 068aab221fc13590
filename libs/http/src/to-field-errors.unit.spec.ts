import { SchemaCompiler } from './schema-compiler';
import type { JsonSchema } from './route-definition';
import { describedPattern, toFieldErrors } from './to-field-errors';

/** Field errors say what is wrong in words: never a regular expression, one line per path. */
const compiler = new SchemaCompiler();
const errorsOf = (schema: JsonSchema, value: unknown) => {
  const validate = compiler.compile('exact', schema);
  validate(value);
  return toFieldErrors(validate.errors, 'body');
};

it('says what a described pattern means instead of quoting it; an undescribed one keeps Ajv words', () => {
  const name = describedPattern('^[^\\u0000-\\u001f]+$', 'must hold no control character');
  const schema = {
    type: 'object',
    properties: { name: { type: 'string', pattern: name }, code: { type: 'string', pattern: '^[A-Z]{2}$' } },
  };
  expect(errorsOf(schema, { name: 'a\u0007b', code: 'abc' })).toEqual([
    { path: '/body/name', message: 'must hold no control character' },
    { path: '/body/code', message: 'must match pattern "^[A-Z]{2}$"' },
  ]);
});

it('names the values a choice of constants allows, once (TypeBox unions of literals are an anyOf of consts)', () => {
  const schema = {
    type: 'object',
    properties: { type: { anyOf: [{ const: 'user' }, { const: 'client' }] } },
  };
  expect(errorsOf(schema, { type: 'group' })).toEqual([
    { path: '/body/type', message: 'must be one of "user", "client"' },
  ]);
  expect(errorsOf(schema, { type: 'user' })).toEqual([]);
});

it('keeps the closest branch of an anyOf, and names every type when each branch failed on the type alone', () => {
  const id = describedPattern('^[a-z_]+$', 'must be an id');
  const schema = {
    type: 'object',
    properties: { parentId: { anyOf: [{ type: 'string', pattern: id }, { type: 'null' }] } },
  };
  expect(errorsOf(schema, { parentId: 'no such/id' })).toEqual([{ path: '/body/parentId', message: 'must be an id' }]);
  expect(errorsOf(schema, { parentId: 42 })).toEqual([{ path: '/body/parentId', message: 'must be string or null' }]);
});

it('keeps the failures of each array item apart (item 1 is not item 10), and prefers a failure beyond the type', () => {
  const schema = {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        type: { anyOf: [{ const: 'user' }, { const: 'client' }] },
        id: {
          anyOf: [{ type: 'null' }, { type: 'string', pattern: describedPattern('^[a-z]+$', 'must be lowercase') }],
        },
      },
    },
  };
  const items = Array.from({ length: 11 }, () => ({ type: 'user', id: 'ok' }));
  items[1] = { type: 'group', id: 'ok' };
  items[10] = { type: 'team', id: 'NOT' };
  expect(errorsOf(schema, items)).toEqual([
    { path: '/body/1/type', message: 'must be one of "user", "client"' },
    { path: '/body/10/type', message: 'must be one of "user", "client"' },
    { path: '/body/10/id', message: 'must be lowercase' },
  ]);
});

it('refuses one pattern described with two meanings', () => {
  describedPattern('^x$', 'must be x');
  expect(() => describedPattern('^x$', 'must be x')).not.toThrow();
  expect(() => describedPattern('^x$', 'must be an x')).toThrow('described twice');
});
