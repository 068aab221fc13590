import { newId } from '@arbor/domain';
import { checkCommandIds } from './command-ids';
import type { Command } from './command';

const failure = (command: unknown) => {
  try {
    checkCommandIds(command as Command);
    return undefined;
  } catch (e) {
    return e as { code: string; errors?: { path: string }[] };
  }
};

describe('checkCommandIds', () => {
  const org = newId('org');
  const usr = newId('usr');

  it('passes commands whose every id is of its kind', () => {
    expect(failure({ type: 'CreateOrg', orgId: newId('org'), parentId: null, name: 'n' })).toBeUndefined();
    expect(
      failure({
        type: 'AddUserToOrg',
        orgId: org,
        roles: [],
        newUser: { userId: newId('usr'), email: 'a@b.c', name: 'n' },
      }),
    ).toBeUndefined();
    expect(
      failure({
        type: 'IssueClientCredential',
        clientCredentialId: newId('cc'),
        orgId: org,
        name: 'c',
        scopes: [],
        secret: 's',
      }),
    ).toBeUndefined();
    expect(failure({ type: 'UpdateOrgUser', orgId: org, userId: usr })).toBeUndefined();
  });

  it('refuses a new id of the wrong shape with 400, naming where it is', () => {
    expect(
      failure({
        type: 'AddUserToOrg',
        orgId: org,
        roles: [],
        newUser: { userId: 'bad id/..', email: 'a@b.c', name: 'n' },
      }),
    ).toMatchObject({
      code: 'IAM_ERR_VALIDATION',
      errors: [{ path: '/newUser/userId' }],
    });
    expect(failure({ type: 'AddUserToOrg', orgId: org, roles: [], newUser: null })).toMatchObject({
      code: 'IAM_ERR_VALIDATION',
    });
    expect(failure({ type: 'CreateOrg', orgId: 'org_atkdeep1800', parentId: null, name: 'n' })).toMatchObject({
      errors: [{ path: '/orgId' }],
    });
    expect(failure({ type: 'IssueClientCredential', clientCredentialId: 'cc bad/..', orgId: org })).toMatchObject({
      errors: [{ path: '/clientCredentialId' }],
    });
    expect(failure({ type: 'BootstrapPlatformAdmin', userId: 'me' })).toMatchObject({ code: 'IAM_ERR_VALIDATION' });
    expect(failure({ type: 'Nope' })).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/type' }] });
  });

  it('answers 404 for a referenced id of the wrong shape: nothing can have it', () => {
    for (const command of [
      { type: 'UpdateUser', userId: 'me' },
      { type: 'RemoveUserFromOrg', orgId: org, userId: 'bad id/..' },
      { type: 'RevokeClientCredential', clientCredentialId: 'cc bad/..' },
      { type: 'CreateOrg', orgId: newId('org'), parentId: usr, name: 'n' },
      { type: 'AddUserToOrg', orgId: org, roles: [], existingUserId: 42 },
    ])
      expect(failure(command)).toMatchObject({ code: 'IAM_ERR_NOT_FOUND' });
  });
});
