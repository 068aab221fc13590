import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver got it: the raw body (what was signed) and the headers. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/**
 * A real webhook receiver on loopback for the tests: records every POST and answers `status` (204 unless set).
 * `stop()` closes the port (deliveries then fail with "connection refused"); `restart()` listens again on the
 * same port, as a receiver back from an outage.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  status = 204;
  private server: http.Server | undefined;
  private constructor(private port: number) {}

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(0);
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/arbor`;
  }

  /** The `webhook-id`s received, each once, in order of first arrival. */
  distinctIds(): string[] {
    return [...new Set(this.received.map((r) => r.headers['webhook-id']))];
  }

  async restart(): Promise<void> {
    await this.listen();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
        if (this.status >= 200 && this.status < 300)
          this.received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
}
