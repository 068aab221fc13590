import { jsonStructureFault } from './duplicate-keys';
import { freeValueTest } from './free-values';

/** Which locations of a body a schema leaves free (freeValueTest), and what jsonStructureFault then skips. */
const schema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    properties: { type: 'object', additionalProperties: true, description: 'ignored' },
    tags: { type: 'object', patternProperties: { '^(.*)$': {} } },
    closed: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer' } } },
    list: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } },
    typed: { type: 'object', additionalProperties: { type: 'number' } },
  },
  allOf: [{ if: { not: { required: ['id'] } }, then: { required: ['list'] } }],
};
const free = freeValueTest(schema);

it('is free where no schema on the way constrains the value', () => {
  expect(free(['unknown'])).toBe(true);
  expect(free(['unknown', 'deep', 0])).toBe(true);
  expect(free(['properties', 'anything'])).toBe(true);
  expect(free(['tags', 'x', 3])).toBe(true);
  expect(free(['list', 0, 'other'])).toBe(true);
});

it('is not free where a schema says anything about the value, or refuses it', () => {
  expect(free([])).toBe(false);
  expect(free(['id'])).toBe(false);
  expect(free(['properties'])).toBe(false);
  expect(free(['closed', 'n'])).toBe(false);
  expect(free(['closed', 'other'])).toBe(false);
  expect(free(['list', 0, 'n'])).toBe(false);
  expect(free(['typed', 'x'])).toBe(false);
  // An in-place applicator that constrains the member counts, whatever its branch.
  expect(freeValueTest({ type: 'object', anyOf: [{ properties: { x: { type: 'string' } } }] })(['x'])).toBe(false);
  expect(freeValueTest({ type: 'object', properties: { x: { $ref: '#/$defs/x' } } })(['x', 'y'])).toBe(false);
});

it('lets jsonStructureFault skip the number and text rules there only', () => {
  const text = '{"unknown": {"n": 9007199254740993, "s": "\\u0000"}, "id": "a\\u0000"}';
  expect(jsonStructureFault(text, 32, free)).toEqual({
    kind: 'text',
    pointer: '/id',
    message: 'must not contain U+0000',
  });
  expect(jsonStructureFault(text)).toEqual({ kind: 'number', pointer: '/unknown/n' });
  expect(jsonStructureFault('{"typed": {"x": 1e400}}', 32, free)).toEqual({ kind: 'number', pointer: '/typed/x' });
  // Repeated names are refused everywhere: the value a parser keeps is ambiguous even when nobody reads it.
  expect(jsonStructureFault('{"unknown": {"a": 1, "a": 2}}', 32, free)).toEqual({
    kind: 'duplicate',
    pointer: '/unknown/a',
  });
});
