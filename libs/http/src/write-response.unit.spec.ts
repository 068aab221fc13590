import type { ServerResponse } from 'node:http';
import { writeResponse } from './write-response';

/** Just enough of a ServerResponse to see what would go on the wire. */
function fakeResponse(): {
  res: ServerResponse;
  headers: Record<string, unknown>;
  sent: () => string | Buffer | undefined;
} {
  const headers: Record<string, unknown> = {};
  let payload: string | Buffer | undefined;
  const res = {
    statusCode: 0,
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = value),
    end: (body?: string | Buffer) => (payload = body),
  } as unknown as ServerResponse;
  return { res, headers, sent: () => payload };
}

const write = (body: unknown) => {
  const r = fakeResponse();
  writeResponse(r.res, 200, body, undefined, undefined);
  return r;
};

describe('writeResponse', () => {
  it('encodes a frozen body once and sends the same bytes every time', () => {
    const body = Object.freeze({ items: Object.freeze([Object.freeze({ name: 'Zürich' })]), nextCursor: null });
    const first = write(body);
    const second = write(body);
    expect(second.sent()).toBe(first.sent());
    expect(JSON.parse(String(first.sent()))).toEqual({ items: [{ name: 'Zürich' }], nextCursor: null });
    expect(first.headers['content-length']).toBe(Buffer.byteLength(JSON.stringify(body)));
  });

  it('encodes a body that is not frozen on every write, so later changes show', () => {
    const body = { n: 1 };
    expect(JSON.parse(String(write(body).sent()))).toEqual({ n: 1 });
    body.n = 2;
    const again = write(body);
    expect(JSON.parse(String(again.sent()))).toEqual({ n: 2 });
    expect(again.headers['content-length']).toBe(Buffer.byteLength('{"n":2}'));
  });
});
