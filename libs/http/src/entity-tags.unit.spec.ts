import {
  ENTITY_TAG_LIST_PATTERN,
  ifMatchHolds,
  ifNoneMatchHolds,
  parseEntityTagCondition,
  readPreconditions,
  representationTag,
} from './entity-tags';
import { HttpProblem } from './http-problem';

describe('entity tag conditions (RFC 9110 sections 8.8.3, 13.1.1, 13.1.2)', () => {
  it('parses *, single tags, weak tags and lists with empty elements and whitespace', () => {
    expect(parseEntityTagCondition('*')).toBe('*');
    expect(parseEntityTagCondition(' * ')).toBe('*');
    expect(parseEntityTagCondition('"a"')).toEqual([{ weak: false, opaque: 'a' }]);
    expect(parseEntityTagCondition('W/"a"')).toEqual([{ weak: true, opaque: 'a' }]);
    expect(parseEntityTagCondition('""')).toEqual([{ weak: false, opaque: '' }]);
    expect(parseEntityTagCondition(' "a" ,\tW/"b",, "c" ,')).toEqual([
      { weak: false, opaque: 'a' },
      { weak: true, opaque: 'b' },
      { weak: false, opaque: 'c' },
    ]);
    // A comma inside the quotes is part of the tag (etagc includes %x2C).
    expect(parseEntityTagCondition('"a,b", "c"')).toEqual([
      { weak: false, opaque: 'a,b' },
      { weak: false, opaque: 'c' },
    ]);
    expect(parseEntityTagCondition('')).toEqual([]);
  });

  it('refuses what the grammar does not allow', () => {
    for (const value of [
      'a',
      '"a',
      'a"',
      'w/"a"',
      'W/ "a"',
      '"a" "b"',
      '"a"b',
      '*, "a"',
      '"a", *',
      '"a b"',
      '"a\u0001"',
      'W/a',
    ])
      expect([value, parseEntityTagCondition(value)]).toEqual([value, undefined]);
  });

  it('documents as its pattern exactly the values the parser reads as * or at least one tag', () => {
    const pattern = new RegExp(ENTITY_TAG_LIST_PATTERN, 'u');
    const agree = (value: string) => {
      const parsed = parseEntityTagCondition(value);
      const readable = parsed === '*' || (parsed !== undefined && parsed.length > 0);
      expect([value, pattern.test(value)]).toEqual([value, readable]);
    };
    for (const value of ['*', ' "a" ,\tW/"b",, "c" ,', ',"a"', '"\u00e9"', '', ',', ' , ', '"a" "b"', '*,', 'W/""'])
      agree(value);
    // Seeded pseudo-random strings over the grammar's own symbols (a failure names its value).
    const parts = ['"a"', 'W/', '"', ',', ' ', '\t', '*', 'b', '"\u00ff"', '\u0001', 'W/"x,y"', '"a b"'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let n = 0; n < 5000; n++) {
      let value = '';
      for (let k = next() % 7; k >= 0; k--) value += parts[next() % parts.length];
      agree(value);
    }
  });

  it('compares strongly for If-Match and weakly for If-None-Match', () => {
    const current = '"3-abc"';
    const cond = (v: string) => parseEntityTagCondition(v)!;
    expect(ifMatchHolds(cond('"3-abc"'), current)).toBe(true);
    expect(ifMatchHolds(cond('W/"3-abc"'), current)).toBe(false);
    expect(ifMatchHolds(cond('"x", "3-abc"'), current)).toBe(true);
    expect(ifMatchHolds(cond('"3"'), current)).toBe(false);
    expect(ifMatchHolds(cond('*'), current)).toBe(true);
    expect(ifMatchHolds(cond('*'), undefined)).toBe(false);
    expect(ifMatchHolds(cond('"3-abc"'), undefined)).toBe(false);
    expect(ifMatchHolds(cond(''), current)).toBe(false);

    expect(ifNoneMatchHolds(cond('"3-abc"'), current)).toBe(false);
    expect(ifNoneMatchHolds(cond('W/"3-abc"'), current)).toBe(false);
    expect(ifNoneMatchHolds(cond('"x"'), current)).toBe(true);
    expect(ifNoneMatchHolds(cond('*'), current)).toBe(false);
    expect(ifNoneMatchHolds(cond('*'), undefined)).toBe(true);
    // A representation without an ETag still exists: `*` concerns existence, tags cannot match it.
    expect(ifMatchHolds(cond('*'), undefined, true)).toBe(true);
    expect(ifNoneMatchHolds(cond('*'), undefined, true)).toBe(false);
    expect(ifNoneMatchHolds(cond('"x"'), undefined, true)).toBe(true);
  });

  it('reads both headers, joining repeated field lines, and answers a malformed one with a 400 naming it', () => {
    expect(readPreconditions({ 'if-match': ['"a"', '"b"'] })).toEqual({
      ifMatch: [
        { weak: false, opaque: 'a' },
        { weak: false, opaque: 'b' },
      ],
      ifNoneMatch: undefined,
    });
    let thrown: unknown;
    try {
      readPreconditions({ 'if-none-match': 'banana' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(HttpProblem);
    expect(thrown).toMatchObject({
      status: 400,
      code: 'IAM_ERR_VALIDATION',
      errors: [{ path: '/headers/if-none-match' }],
    });
  });

  it('tags a representation by its version and a digest of its bytes, so any change of the body changes the tag', () => {
    const body = { id: 'o1', depth: 1, version: 4 };
    const tag = representationTag(4, body);
    expect(tag).toMatch(/^"4-[A-Za-z0-9_-]{16}"$/);
    expect(representationTag(4, { id: 'o1', depth: 1, version: 4 })).toBe(tag);
    expect(representationTag(4, { id: 'o1', depth: 2, version: 4 })).not.toBe(tag);
    expect(representationTag(4, Object.freeze({ ...body }))).toBe(tag);
    expect(parseEntityTagCondition(tag)).toEqual([{ weak: false, opaque: tag.slice(1, -1) }]);
  });
});
