import { FieldChecks } from './field-rules';
import { decidePasswordChange } from './password-decisions';
import { IamError } from './iam-error';
import { MembershipIndex } from './membership-index';
import { OrgTree } from './org-tree';
import { UserDirectory } from './user-directory';

const emailOk = (value: unknown): boolean => {
  const checks = new FieldChecks();
  checks.email('/email', value);
  try {
    checks.done('invalid');
    return true;
  } catch {
    return false;
  }
};

describe('the email rule', () => {
  it('accepts the default bootstrap admin, admin@localhost, and any case of that domain', () => {
    expect(emailOk('admin@localhost')).toBe(true);
    expect(emailOk('Ops@LocalHost')).toBe(true);
  });

  it('still wants a dot in any other domain, one @ and no spaces', () => {
    expect(emailOk('bob@gmailcom')).toBe(false);
    expect(emailOk('bob@localhost.')).toBe(false);
    expect(emailOk('bob@notlocalhost')).toBe(false);
    expect(emailOk('a@b@localhost')).toBe(false);
    expect(emailOk('a b@example.com')).toBe(false);
    expect(emailOk('ada@example.com')).toBe(true);
  });

  it('wants a host name after the @: no empty label, no label beginning or ending with a hyphen, none over 63', () => {
    for (const bad of [
      'a@a..test',
      'a@-a.test',
      'a@a-.test',
      'a@.a.test',
      'a@a.test.',
      'a@a.-test',
      `a@${'x'.repeat(64)}.test`,
    ])
      expect([bad, emailOk(bad)]).toEqual([bad, false]);
    for (const good of [
      'a@a-b.test',
      'first.last+tag@mail.example.co.uk',
      'x@1.2.example',
      'jörg@bücher.example',
      `a@${'x'.repeat(63)}.test`,
      'a@b.c',
    ])
      expect([good, emailOk(good)]).toEqual([good, true]);
  });
});

describe('the password rule', () => {
  const passwordOk = (value: unknown): boolean => {
    const checks = new FieldChecks();
    checks.password('/password', value);
    try {
      checks.done('invalid');
      return true;
    } catch {
      return false;
    }
  };

  it('counts characters as code points, at both ends (an emoji is one, as the request schema counts it)', () => {
    expect(passwordOk('😀'.repeat(1024))).toBe(true);
    expect(passwordOk('😀'.repeat(1025))).toBe(false);
    expect(passwordOk('😀'.repeat(8))).toBe(true);
    expect(passwordOk('😀'.repeat(7))).toBe(false);
    expect(passwordOk('é'.repeat(1024))).toBe(true);
  });
});

describe('password decisions', () => {
  const state = () => {
    const users = new UserDirectory();
    const at = (type: string, position: number, data: object) => ({
      id: `e${position}`,
      type,
      streamId: 'user-u1',
      streamVersion: position,
      position,
      occurredAt: '',
      actor: { type: 'system' as const, id: 'system' },
      data,
      orgPath: [],
    });
    users.apply(at('UserCreated', 1, { userId: 'u1', personal: 'v1.x.y', platformAdmin: false }), 'idx');
    return { state: { orgs: new OrgTree(), users, memberships: new MembershipIndex() }, at };
  };

  it('records who changed it and the session that survives, and never anything secret', () => {
    const { state: s } = state();
    expect(decidePasswordChange(s, { userId: 'u1', by: 'self', keptSessionId: 'fam' })).toEqual([
      { type: 'UserPasswordChanged', streamId: 'user-u1', data: { userId: 'u1', keptSessionId: 'fam' } },
    ]);
    expect(decidePasswordChange(s, { userId: 'u1', by: 'admin' })).toEqual([
      { type: 'UserPasswordSet', streamId: 'user-u1', data: { userId: 'u1' } },
    ]);
  });

  it('refuses unknown and erased users with 404, and the event moves the user version', () => {
    const { state: s, at } = state();
    expect(() => decidePasswordChange(s, { userId: 'nobody', by: 'admin' })).toThrow(IamError);
    s.users.apply(at('UserPasswordSet', 2, { userId: 'u1' }), null);
    expect(s.users.get('u1')?.version).toBe(2);
    s.users.markErased('u1');
    expect(() => decidePasswordChange(s, { userId: 'u1', by: 'admin' })).toThrow(
      expect.objectContaining({ code: 'IAM_ERR_NOT_FOUND' }),
    );
  });
});
