import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookHttpTransport } from './webhook-http-transport';

describe('WebhookHttpTransport', () => {
  let server: http.Server;
  let base: string;
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  let answer: (res: http.ServerResponse) => void = (res) => res.writeHead(204).end();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    received.length = 0;
    answer = (res) => res.writeHead(204).end();
  });

  const request = (url: string, timeoutMs = 2000) => ({
    url,
    headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1' },
    body: '{"a":"é"}',
    timeoutMs,
  });

  it('refuses loopback targets, by address or by a name resolving to one, unless private targets are allowed', async () => {
    const strict = new WebhookHttpTransport();
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    try {
      const port = new URL(base).port;
      expect(await strict.send(request(base))).toEqual({ error: 'address not allowed' });
      expect(await strict.send(request(`http://localhost:${port}/hook`))).toEqual({ error: 'address not allowed' });
      expect(await strict.send(request('http://[::1]:9/'))).toEqual({ error: 'address not allowed' });
      expect(received).toHaveLength(0);
      expect(await open.send(request(`${base}/hook`))).toEqual({ status: 204 });
      expect(received).toHaveLength(1);
      expect(received[0].body).toBe('{"a":"é"}');
      expect(received[0].headers['webhook-id']).toBe('evt_1');
      expect(received[0].headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
    } finally {
      await strict.close();
      await open.close();
    }
  });

  it('never reaches cloud instance metadata or link-local addresses, in any form, even where private targets are allowed', async () => {
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    try {
      for (const target of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:169.254.169.254]/latest/meta-data/',
        'http://[::ffff:a9fe:a9fe]/',
        'http://169.254.170.2/v2/credentials',
        'http://100.100.100.200/latest/meta-data/',
        'http://[fd00:ec2::254]/',
      ])
        expect([target, await open.send(request(target))]).toEqual([target, { error: 'address not allowed' }]);
    } finally {
      await open.close();
    }
  });

  it('refuses loopback in the IPv6 forms that carry an IPv4 address (compatible, NAT64, 6to4) when private targets are not allowed', async () => {
    const strict = new WebhookHttpTransport();
    try {
      for (const target of ['http://[::127.0.0.1]:9/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/'])
        expect([target, await strict.send(request(target))]).toEqual([target, { error: 'address not allowed' }]);
    } finally {
      await strict.close();
    }
  });

  it("does not make one receiver's deliveries wait for the sockets another's slow requests to the same host hold", async () => {
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    const stalled: http.ServerResponse[] = [];
    try {
      answer = (res) => void stalled.push(res);
      const slow = Array.from({ length: 6 }, (_, i) => open.send(request(`${base}/slow${i}`, 5000)));
      while (received.length < 6) await new Promise((resolve) => setTimeout(resolve, 10));
      answer = (res) => res.writeHead(204).end();
      expect(await open.send(request(`${base}/fast`, 1000))).toEqual({ status: 204 });
      for (const res of stalled) res.writeHead(204).end();
      expect(await Promise.all(slow)).toEqual(Array(6).fill({ status: 204 }));
    } finally {
      await open.close();
    }
  });

  it('reports statuses without following redirects, and names refusals and timeouts', async () => {
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    try {
      answer = (res) => res.writeHead(302, { location: `${base}/elsewhere` }).end();
      expect(await open.send(request(base))).toEqual({ status: 302 });
      expect(received).toHaveLength(1);
      answer = (res) => res.writeHead(500).end('stack trace the log must not keep');
      expect(await open.send(request(base))).toEqual({ status: 500 });
      answer = (res) => setTimeout(() => res.writeHead(204).end(), 500);
      expect(await open.send(request(base, 100))).toEqual({ error: 'timeout' });
      expect(await open.send(request('http://127.0.0.1:1/'))).toEqual({ error: 'connection refused' });
      expect(await open.send(request('ftp://example.com/'))).toEqual({ error: 'unsupported URL scheme' });
    } finally {
      await open.close();
    }
  });
});
