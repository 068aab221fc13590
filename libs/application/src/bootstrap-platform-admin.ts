import { randomBytes } from 'node:crypto';
import { newUntimedId } from '@arbor/domain';
import type { CommandService } from './commands/command-service';
import type { Logger } from './logger';

/**
 * First start with an empty log: create the platform admin from IAM_BOOTSTRAP_ADMIN_EMAIL and
 * IAM_BOOTSTRAP_ADMIN_PASSWORD, or with a generated password printed once (to stdout, never to the log
 * stream's structured fields). Later starts find the admin in the log and change nothing.
 */
export async function bootstrapPlatformAdmin(
  commands: CommandService,
  settings: { email?: string; password?: string },
  log: Logger,
  print: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Promise<void> {
  if (commands.hasPlatformAdmin) return;
  const email = settings.email || 'admin@localhost';
  const generated = !settings.password;
  const password = settings.password || randomBytes(18).toString('base64url');
  const outcome = await commands.execute(
    { type: 'BootstrapPlatformAdmin', userId: newUntimedId('usr'), email, name: 'Platform admin', password },
    { principal: 'system' },
  );
  if (outcome.kind !== 'applied' || outcome.events.length === 0) return;
  log.info('platform admin created', { userId: (outcome.events[0].data as { userId: string }).userId });
  if (generated)
    print(
      `Platform admin created: ${email} / password: ${password} (shown once; set IAM_BOOTSTRAP_ADMIN_PASSWORD to choose it)`,
    );
}
