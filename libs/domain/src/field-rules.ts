import { IamError, type FieldError } from './iam-error';
import { PERMISSIONS, isPermission, type Permission } from './permissions';
import { BUILT_IN_ROLES, normaliseRoles, type RoleDefinition, type RoleId } from './roles';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Deliberately loose in the local part (RFC 5322 is looser still): one @, no spaces. The domain is a host name: a
 * dot, labels of 1-63 characters that neither begin nor end with a hyphen (RFC 1123 section 2.1; letters beyond
 * ASCII allowed, as internationalised domains are), or `localhost` (RFC 6761's reserved name, whose mailboxes are
 * the machine's own: the default bootstrap admin is `admin@localhost`, and the API must accept what it creates).
 * Other dotless domains are refused as typos, and so are `a..b` and `-a.b`.
 */
const EMAIL = /^[^\s@]+@(?:(?:[^\s@.-](?:[^\s@.]{0,61}[^\s@.-])?\.)+[^\s@.-](?:[^\s@.]{0,61}[^\s@.-])?|localhost)$/iu;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/** Collects field errors and throws them together, so a client sees every problem at once. */
export class FieldChecks {
  private readonly errors: FieldError[] = [];

  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  done(message: string): void {
    if (this.errors.length > 0) throw new IamError('IAM_ERR_VALIDATION', message, this.errors);
  }

  email(path: string, value: unknown): string {
    if (typeof value !== 'string' || value.length > 254 || !EMAIL.test(value.trim()) || CONTROL.test(value)) {
      this.fail(path, 'must be an email address');
      return '';
    }
    return value.normalize('NFC').trim();
  }

  displayName(path: string, value: unknown): string {
    const name = typeof value === 'string' ? value.normalize('NFC').trim() : '';
    if (name.length < 1 || [...name].length > 200 || CONTROL.test(name)) {
      this.fail(path, 'must be 1 to 200 printable characters');
    }
    return name;
  }

  password(path: string, value: unknown): string {
    // Characters are code points, as the request schema's minLength/maxLength count them (an emoji is one).
    const length = typeof value === 'string' ? [...value].length : 0;
    if (typeof value !== 'string' || length < PASSWORD_MIN || length > PASSWORD_MAX)
      this.fail(path, `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
    return typeof value === 'string' ? value : '';
  }

  /** A membership's roles: a non-empty list of ids of `known` (a RoleCatalog's `visibleAt`), normalised. */
  roles(path: string, value: unknown, known: readonly RoleDefinition[] = BUILT_IN_ROLES): RoleId[] {
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      !value.every((r) => typeof r === 'string' && known.some((d) => d.id === r))
    ) {
      this.fail(path, `must be a non-empty list of ${roleIdsExpected(known)}${unknownRoleIds(value, known)}`);
      return [];
    }
    return normaliseRoles(value as RoleId[]);
  }

  /** A client credential's roles: a list (possibly empty) of ids of `known`, normalised. */
  clientRoles(path: string, value: unknown, known: readonly RoleDefinition[] = BUILT_IN_ROLES): RoleId[] {
    if (!Array.isArray(value) || !value.every((r) => typeof r === 'string' && known.some((d) => d.id === r))) {
      this.fail(path, `must be a list (possibly empty) of ${roleIdsExpected(known)}${unknownRoleIds(value, known)}`);
      return [];
    }
    return normaliseRoles(value as RoleId[]);
  }

  /** A list of built-in permissions, possibly empty (whether empty is allowed is the caller's rule). */
  scopes(path: string, value: unknown): Permission[] {
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && isPermission(s))) {
      this.fail(path, `must be a list of ${PERMISSIONS.join(', ')}`);
      return [];
    }
    return PERMISSIONS.filter((p) => value.includes(p));
  }
}

/**
 * What a list of role ids may hold, for an error message: the built-in ids, and custom role ids in general
 * rather than every one visible there (their number is unbounded, and a caller granting roles need not hold
 * roles:read to learn them).
 */
function roleIdsExpected(known: readonly RoleDefinition[]): string {
  const builtIn = known.filter((d) => d.orgId === null).map((d) => d.id);
  return known.length === builtIn.length
    ? builtIn.join(', ')
    : `${builtIn.join(', ')} or custom role ids visible at the organization`;
}

/** The ids of `value` that `known` does not hold, at most five, for an error message (empty when none). */
function unknownRoleIds(value: unknown, known: readonly RoleDefinition[]): string {
  if (!Array.isArray(value)) return '';
  const unknown = value
    .filter((r) => !known.some((d) => d.id === r))
    .map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
  if (unknown.length === 0) return '';
  return `; not known there: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`;
}
