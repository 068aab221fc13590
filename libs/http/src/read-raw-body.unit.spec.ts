import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { once } from 'node:events';
import { readRawBody } from './read-raw-body';

/** A request whose body the HTTP parser has (`complete`) or has not yet fully received. */
const request = (chunks: string[], complete: boolean): IncomingMessage => {
  const req = new IncomingMessage(new Socket());
  for (const c of chunks) req.push(Buffer.from(c));
  if (complete) {
    req.complete = true;
    req.push(null);
  }
  return req;
};

it('takes a body already received whole from the buffer, and the request then ends as usual', async () => {
  const req = request(['{"a":', '1}'], true);
  const ended = once(req, 'end');
  expect((await readRawBody(req, 100)).toString()).toBe('{"a":1}');
  await ended;
  expect(req.readableEnded).toBe(true);
});

it('streams a body still arriving, and refuses either kind over the limit with 413', async () => {
  const req = request(['{"a":'], false);
  const body = readRawBody(req, 100);
  req.push(Buffer.from('2}'));
  req.complete = true;
  req.push(null);
  expect((await body).toString()).toBe('{"a":2}');

  await expect(readRawBody(request(['x'.repeat(101)], true), 100)).rejects.toMatchObject({ status: 413 });
  const arriving = request(['x'.repeat(60)], false);
  const refused = readRawBody(arriving, 100);
  arriving.push(Buffer.from('y'.repeat(60)));
  await expect(refused).rejects.toMatchObject({ status: 413 });
});

it('reads an empty complete body as no bytes', async () => {
  expect((await readRawBody(request([], true), 100)).length).toBe(0);
});

it('waits one turn for a small declared body the parser has yet to push, and takes it without streaming', async () => {
  const req = request([], false);
  req.headers['content-length'] = '7';
  const on = jest.spyOn(req, 'on');
  const body = readRawBody(req, 100);
  // What Node's parser does after the route's first promise jobs, within the same turn: push, then complete.
  req.push(Buffer.from('{"a":3}'));
  req.complete = true;
  req.push(null);
  expect((await body).toString()).toBe('{"a":3}');
  expect(on.mock.calls.map(([event]) => event)).not.toContain('data');
});

it('streams a small declared body that has not arrived after that turn (a slow client)', async () => {
  const req = request([], false);
  req.headers['content-length'] = '7';
  const body = readRawBody(req, 100);
  await new Promise((resolve) => setTimeout(resolve, 5));
  req.push(Buffer.from('{"a":4}'));
  req.complete = true;
  req.push(null);
  expect((await body).toString()).toBe('{"a":4}');
});

it('refuses at once a body whose client went away while the route waited, rather than waiting for events that have passed', async () => {
  const req = request([], false);
  req.headers['content-length'] = '7';
  const body = readRawBody(req, 100);
  req.destroy();
  await expect(body).rejects.toMatchObject({ status: 400 });
});
