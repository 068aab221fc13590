import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one delivery (https://www.standardwebhooks.com, "Signature scheme"):
 * `webhook-id` (the event id: the same on every attempt, so receivers can drop repeats), `webhook-timestamp`
 * (whole seconds since the epoch, of this attempt) and `webhook-signature`, one `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` per secret, space-separated: during a rotation the old and the new secret both sign,
 * so a receiver holding either accepts the delivery. Signed by the specification's reference library.
 *
 * `secrets` are `whsec_<base64>` strings, current first; throws on an empty list (nothing would verify).
 */
export function standardWebhookHeaders(
  secrets: readonly string[],
  webhookId: string,
  sentAt: Date,
  body: string,
): Record<string, string> {
  if (secrets.length === 0) throw new Error('A webhook needs a secret to sign with.');
  const signature = secrets.map((secret) => signerOf(secret).sign(webhookId, sentAt, body)).join(' ');
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

// Decoding a secret is cheap, but a delivery loop signs thousands of times with the same few.
const signers = new Map<string, Webhook>();
function signerOf(secret: string): Webhook {
  let signer = signers.get(secret);
  if (!signer) {
    if (signers.size >= 1000) signers.clear();
    signers.set(secret, (signer = new Webhook(secret)));
  }
  return signer;
}
