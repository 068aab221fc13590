import type { DistributedSettings } from './config';

/** 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The internal command API carries passwords and acts for callers: off loopback it must not run without
 * IAM_INTERNAL_TOKEN. The command service checks the address it listens on, a gateway the URL it sends to;
 * either refuses to start (throws) rather than run exposed.
 */
export function requireInternalTokenOffLoopback(
  settings: DistributedSettings,
  side: 'command-service' | 'gateway',
): void {
  if (settings.internalToken) return;
  const host = side === 'command-service' ? settings.commandServiceHost : new URL(settings.commandServiceUrl).hostname;
  if (!isLoopbackHost(host))
    throw new Error(
      side === 'command-service'
        ? `COMMAND_SERVICE_HOST is ${host}, not a loopback address: set IAM_INTERNAL_TOKEN (a long random secret shared with the gateways).`
        : `COMMAND_SERVICE_URL points at ${host}, not a loopback address: set IAM_INTERNAL_TOKEN (the command services' shared secret).`,
    );
}
