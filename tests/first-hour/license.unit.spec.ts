import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** MD5 of https://www.apache.org/licenses/LICENSE-2.0.txt, the canonical text (its appendix keeps the placeholder). */
const CANONICAL_APACHE_2_MD5 = '3b83ef96387f14655fc854ddc3c6bd57';

describe('the license', () => {
  it('is the one package.json claims: LICENSE holds the Apache License 2.0, word for word, with our copyright line', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toContain('   Copyright 2026 The Arbor authors\n');
    const canonical = text.replace('Copyright 2026 The Arbor authors', 'Copyright [yyyy] [name of copyright owner]');
    expect(createHash('md5').update(canonical).digest('hex')).toBe(CANONICAL_APACHE_2_MD5);
  });
});
