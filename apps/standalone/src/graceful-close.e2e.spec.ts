import { once } from 'node:events';
import { connect } from 'node:net';
import { startTestApp, type TestApp } from './test-support/test-app';

/**
 * A graceful close (SIGTERM, or close() in a program) answers every request on a connection the server accepted
 * before it stopped listening (PublicServer.close in @arbor/api), in every profile: the embedded server, its HTTP
 * workers, the distributed gateway. Node's own close destroyed a connection whose request had not yet arrived,
 * and the embedded server and the gateway destroyed every connection, requests in flight included.
 */

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One TCP connection to `url`, written by hand; `ended` resolves with everything received once it closes. */
async function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  // A reset is an outcome to report (in `ended`), not a test failure of its own.
  socket.on('error', () => undefined);
  const ended = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return { socket, ended };
}

describe('a graceful close', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp();
  });
  afterEach(() => app?.close());

  it('answers a request whose body is still arriving, and says the connection closes', async () => {
    const { socket, ended } = await rawConnection(app.url);
    const body = JSON.stringify({ name: 'closing in flight', parentId: null });
    socket.write(
      `POST /api/v1/orgs HTTP/1.1\r\nHost: arbor.test\r\nAuthorization: Bearer ${app.adminToken}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    // The headers are read (not a measurement: a slower server only makes this a connection without a request yet).
    await pause(300);
    const closing = app.close();
    await pause(100);
    socket.write(body);
    const response = await ended;
    await closing;
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(response).toContain('"name":"closing in flight"');
  });

  it('answers a connection accepted before the close whose request comes after it, and a kept-alive one’s next request; closes silent and idle ones', async () => {
    const late = await rawConnection(app.url);
    const silent = await rawConnection(app.url);
    const idle = await rawConnection(app.url);
    const reused = await rawConnection(app.url);
    for (const kept of [idle, reused]) kept.socket.write('GET /healthz HTTP/1.1\r\nHost: arbor.test\r\n\r\n');
    // All accepted by now (with HTTP workers: handed to one), `idle` and `reused` answered, kept alive.
    await pause(300);
    const closing = app.close();
    await pause(100);
    for (const c of [late, reused]) c.socket.write('GET /healthz HTTP/1.1\r\nHost: arbor.test\r\n\r\n');
    const response = await late.ended;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    // A kept-alive connection's next request, sent right after the close, is answered too (a client cannot tell a
    // reset of a request on its way from one that failed after it ran), and its connection then closes.
    const both = await reused.ended;
    expect(both.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(both.slice(both.lastIndexOf('HTTP/1.1 200 '))).toMatch(/\r\nconnection: close\r\n/i);
    // A connection that sends nothing, and a keep-alive one between requests, close without their clients' help.
    expect(await silent.ended).toBe('');
    expect(await idle.ended).toMatch(/^HTTP\/1\.1 200 /);
    await closing;
  });
});
