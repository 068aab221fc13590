import { newId } from '@arbor/domain';
import { USE_CASES, useCaseOf, validateCommand } from './registry';

const fail = (command: unknown) => {
  try {
    validateCommand(command);
  } catch (e) {
    return e as { code: string; errors?: { path: string; message: string }[] };
  }
  throw new Error('expected a refusal');
};

describe('the use-case registry', () => {
  it('holds one module per command type, each under its own type', () => {
    for (const [type, useCase] of Object.entries(USE_CASES)) expect(useCase.type).toBe(type);
    expect(useCaseOf('toString')).toBeUndefined();
    expect(useCaseOf('Unknown')).toBeUndefined();
  });

  it('refuses what breaks a command schema, by pointer into the command and never with the value', () => {
    const orgId = newId('org');
    const wrong = fail({ type: 'DeleteOrg', orgId, recursive: 'false' });
    expect(wrong).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/recursive' }] });
    expect(JSON.stringify(wrong.errors)).not.toContain('false"');
    expect(fail({ type: 'DeleteOrg', orgId })).toMatchObject({
      errors: [{ path: '/recursive', message: 'is required' }],
    });
    expect(fail({ type: 'UpdateUser', userId: newId('usr'), status: 'banned' }).errors?.[0]?.path).toBe('/status');
    expect(fail({ type: 'ReplaceOrg', orgId, parentId: null, name: 'n', expectedVersion: '3' }).errors?.[0]?.path).toBe(
      '/expectedVersion',
    );
    expect(
      fail({ type: 'AddUserToOrg', orgId, roles: ['member'], newUser: { email: 'a@b.test', name: 'n' } }).errors?.[0]
        ?.path,
    ).toBe('/newUser/userId');
    expect(fail({ type: 'Unknown' })).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/type' }] });
    expect(fail({ type: 'constructor' })).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/type' }] });
    expect(fail(null)).toMatchObject({ code: 'IAM_ERR_VALIDATION' });
  });

  it('takes what the routes send: optional members left undefined, fields the deciders check left to them', () => {
    const orgId = newId('org');
    const commands = [
      { type: 'CreateOrg', orgId, parentId: null, name: 42, description: undefined, metadata: undefined },
      { type: 'ChangeOwnPassword', userId: newId('usr'), currentPassword: '', newPassword: 7, source: undefined },
      { type: 'UpdateOrgUser', orgId, userId: newId('usr'), roles: 'admin', name: undefined, preconditionFailed: true },
      {
        type: 'IssueClientCredential',
        clientCredentialId: newId('cc'),
        orgId,
        name: 'c',
        scopes: 'orgs:read',
        secret: 'weak',
      },
    ];
    for (const command of commands) expect(validateCommand(command)).toBe(command);
  });

  it("refuses the dispatcher's DisableWebhookSubscription to every caller (only the system runs it)", async () => {
    const command = validateCommand({ type: 'DisableWebhookSubscription', subscriptionId: newId('whk'), reason: 'x' });
    const admin = { type: 'user', id: newId('usr'), platformAdmin: true, scopes: new Set(['events:read']) };
    await expect(
      useCaseOf('DisableWebhookSubscription').authorize({} as never, admin as never, command as never),
    ).rejects.toMatchObject({ code: 'IAM_ERR_FORBIDDEN' });
  });
});
