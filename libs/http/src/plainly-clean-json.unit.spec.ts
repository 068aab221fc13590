import { MAX_JSON_DEPTH, jsonStructureFault, scanJsonStructure } from './duplicate-keys';
import { plainlyCleanJson } from './plainly-clean-json';

/** The fast path of the body rules: `true` only where the exact scan finds nothing (never hiding a fault). */
const clean = (text: string, depth = MAX_JSON_DEPTH): boolean => plainlyCleanJson(text, depth);

it('passes plain bodies: nested objects, arrays, short numbers, names repeated only across objects', () => {
  for (const text of [
    '{"subject":{"type":"user","id":"usr_01"},"resource":{"type":"organization","id":"org_1e5"},"action":{"name":"orgs:read"}}',
    '{ "a" : 1 , "b" : [ {"a": -12.5e0}, {"a": 999999999999999}, true, null, "x:y" ] }',
    '[]',
    '"text"',
    '-123456789012345',
    '{"a": {"a": {"a": 1}}, "b": {"a": 2}}',
    `{${Array.from({ length: 40 }, (_, i) => `"k${i}": ${i}`).join(', ')}}`,
  ]) {
    expect(JSON.parse(text)).toBeDefined();
    expect([text, clean(text)]).toEqual([text, true]);
    expect(scanJsonStructure(text, MAX_JSON_DEPTH)).toBeUndefined();
  }
});

it('leaves every text with a fault, or with an escape or a surrogate, to the exact scan', () => {
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  for (const text of [
    '{"a": 1, "a": 2}',
    '{"a": 1, "b": {"c": 1}, "a": 2}',
    `{${Array.from({ length: 20 }, (_, i) => `"k${i}": ${i}`).join(', ')}, "k3": 0}`,
    '{"a" : 1, "a"\n:\t2}',
    deep(MAX_JSON_DEPTH + 1),
    '1e400',
    '[-1E400]',
    '9007199254740993',
    '{"n": -9007199254740992}',
    '{"s": "\\u0000"}',
    '{"\\ud800": 1}',
    '{"a": 1, "\\u0061": 2}',
    '{"s": "\ud800"}',
    '{"s": "\udc00\ud800"}',
    // Conservative: faultless, but escaped or holding a surrogate pair, so the exact scan decides.
    '{"s": "say \\"hi\\""}',
    '{"s": "\ud83d\ude00"}',
  ]) {
    expect(JSON.parse(text)).not.toBeUndefined();
    expect([text, clean(text)]).toEqual([text, false]);
  }
  expect(clean(deep(MAX_JSON_DEPTH))).toBe(true);
  expect(clean('[[1]]', 2)).toBe(true);
  expect(clean('[[1]]', 1)).toBe(false);
  // An exponent is read as a number: 1e2 is 100, within the bound.
  expect(clean('[1e2]')).toBe(true);
});

it('agrees with the exact scan on generated bodies: whenever it passes a text, the scan finds no fault', () => {
  // A small deterministic generator (no randomness between runs): names from a tiny alphabet so repeats are common.
  let seed = 42;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed >>> 12) % n;
  };
  const atoms = ['0', '-1', '12.5', '1e3', '9007199254740991', '9007199254740993', '1E400', 'true', 'null', '"x"'];
  const strings = ['"a"', '"b"', '"c"', '"d"', '"\\u0000"', '"\\ud800"', '"\\u0061"', '"\ud83d\ude00"', '" a "'];
  const plainNames = ['"a"', '"b"', '"c"', '"d"', '"e"', '"f"', '"g"', '"h"', '"i"', '"j"'];
  const value = (depth: number): string => {
    const k = next(depth > 6 ? 2 : 4);
    if (k === 0) return atoms[next(atoms.length)];
    if (k === 1) return next(10) === 0 ? strings[next(strings.length)] : plainNames[next(plainNames.length)];
    const items = Array.from({ length: next(k === 3 ? 7 : 4) }, () => value(depth + 1));
    if (k === 2) return `[${items.join(',')}]`;
    const name = (): string => (next(10) === 0 ? strings[next(strings.length)] : plainNames[next(plainNames.length)]);
    return `{${items.map((v) => `${name()}: ${v}`).join(', ')}}`;
  };
  let passed = 0;
  let faulty = 0;
  for (let i = 0; i < 3000; i++) {
    const text = value(0);
    const exact = scanJsonStructure(text, 5);
    if (exact !== undefined) faulty++;
    if (clean(text, 5)) {
      if (text.startsWith('{')) passed++;
      expect([text, exact]).toEqual([text, undefined]);
    }
    expect(jsonStructureFault(text, 5)).toEqual(exact);
  }
  // The generator exercises both sides.
  expect(passed).toBeGreaterThan(200);
  expect(faulty).toBeGreaterThan(300);
});
