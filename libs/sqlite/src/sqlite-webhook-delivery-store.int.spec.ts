import { webhookDeliveryStoreConformance } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteWebhookDeliveryStore } from './sqlite-webhook-delivery-store';

describe('SqliteWebhookDeliveryStore', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-webhooks-'));
    file = path.join(dir, 'webhooks.sqlite');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  webhookDeliveryStoreConformance({
    open: async () => openSqliteWebhookDeliveryStore(file),
    reopen: async () => openSqliteWebhookDeliveryStore(file),
  });

  it('creates its file readable and writable by its owner only', async () => {
    const store = openSqliteWebhookDeliveryStore(file);
    await store.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
