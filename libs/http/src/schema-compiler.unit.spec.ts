import { SchemaCompiler } from './schema-compiler';

/**
 * The coercing validators read a numeric value only in JSON's number syntax (RFC 8259 section 6), wherever the
 * schema says the property is a number: in its own `type`, in a branch, or in the shared schema it references.
 */
describe('SchemaCompiler, coercing mode: numbers in JSON syntax', () => {
  const compiler = new SchemaCompiler();

  const refused = (schema: Record<string, unknown>, data: Record<string, unknown>) => {
    const validate = compiler.compile('coercing', schema);
    expect(validate(data)).toBe(false);
    return validate.errors ?? [];
  };

  it('refuses a hexadecimal integer behind a $ref to a component schema', () => {
    const schema = {
      type: 'object',
      properties: { limit: { $ref: '#/components/schemas/Limit' } },
      components: { schemas: { Limit: { type: 'integer', minimum: 1 } } },
    };
    expect(refused(schema, { limit: '0x10' })).toEqual([
      expect.objectContaining({ instancePath: '/limit', message: 'must be an integer written in decimal' }),
    ]);
    const validate = compiler.compile('coercing', schema);
    const data = { limit: '16' };
    expect(validate(data)).toBe(true);
    expect(data.limit).toBe(16);
  });

  it('follows allOf branches and reads number syntax for `number`', () => {
    const schema = { type: 'object', properties: { ratio: { allOf: [{ type: 'number' }] } } };
    expect(refused(schema, { ratio: '+1.5' })[0]).toMatchObject({ message: 'must be a number written in decimal' });
    expect(compiler.compile('coercing', schema)({ ratio: '-1.5e3' })).toBe(true);
  });

  it('escapes the property name in the JSON pointer it reports (RFC 6901)', () => {
    const schema = { type: 'object', properties: { 'a/b~c': { type: 'integer' } } };
    expect(refused(schema, { 'a/b~c': '05' })[0]).toMatchObject({ instancePath: '/a~1b~0c' });
  });

  it('leaves a value that is no number at all to the schema, and text properties alone', () => {
    const schema = { type: 'object', properties: { depth: { type: 'integer' }, q: { type: 'string' } } };
    expect(refused(schema, { depth: 'all' })[0]).toMatchObject({ keyword: 'type', instancePath: '/depth' });
    expect(compiler.compile('coercing', schema)({ q: '0x10' })).toBe(true);
  });
});
