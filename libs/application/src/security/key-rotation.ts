import type { Logger } from '../logger';
import type { SigningKeyRing } from './signing-key-ring';

const DAY_MS = 24 * 60 * 60_000;

/**
 * The signing keys' schedule, in a process that signs (the standalone process, the gateways): at start and then
 * every `checkEveryMs` (default one minute) it reads the key directory again, so a key made by another process or
 * by `arbor keys rotate` is published (and signs when its time comes) without a restart, and, when
 * `rotationDays` > 0, creates the next key once the newest began signing that many days ago
 * (SigningKeyRing.rotateIfDue: published at once, signing KEY_PUBLICATION_LEAD_MS later). A failure is logged as
 * a warning and tried again at the next check; the keys already loaded keep signing. Returns `stop`.
 */
export function startKeyRotation(
  keys: SigningKeyRing,
  options: { rotationDays: number; log: Logger; checkEveryMs?: number },
): { stop(): void } {
  const check = (): void => {
    try {
      if (options.rotationDays === 0) {
        keys.reload();
        return;
      }
      const created = keys.rotateIfDue(options.rotationDays * DAY_MS);
      if (created !== undefined)
        options.log.info('signing key rotated', {
          kid: created.kid,
          signsFrom: new Date(created.activeFrom).toISOString(),
        });
    } catch (error) {
      options.log.warn('signing key check failed', { error: String(error) });
    }
  };
  check();
  const timer = setInterval(check, options.checkEveryMs ?? 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
