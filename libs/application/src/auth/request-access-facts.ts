import type { Role } from '@arbor/domain';
import type { AccessQuestionFacts, AccessQuestionKey, MembershipQueries } from '../ports/read-models';
import type { AccessFacts, OrgRef } from './access-facts';

/** A user as an access decision sees them (MembershipQueries.accessQuestions), or undefined when unknown. */
export type QuestionUser = AccessQuestionFacts['user'];

/**
 * The access facts of ONE request of the access decision API (AuthZEN evaluation, evaluations, search/action):
 * each fact is read at most once per request, and the (user, organization) facts of all of a request's
 * questions in one query (`load`, MembershipQueries.accessQuestions): a batch of 20 evaluations costs one
 * read, and the caller rule and the decision, asking the same closure (a user asking about themselves), or
 * a batch asking again about the same caller, subject or organization, read it once.
 *
 * Invariant: an instance lives for one request and is then dropped, never shared: every answer of a request
 * reflects the read models as that request read them, and the next request reads them afresh (so it sees
 * every change projected in between). Anything `load` did not read comes from `base`, memoized the same way.
 */
export class RequestAccessFacts implements AccessFacts<OrgRef> {
  private readonly orgs = new Map<string, OrgRef | undefined>();
  private readonly users = new Map<string, QuestionUser>();
  /**
   * effectiveRoles by user id, then organization id: nested maps rather than `userId orgId` keys, since a
   * concatenated key is a new string to flatten and hash on every lookup (a batch of 20 spent ~10 us so).
   */
  private readonly roles = new Map<string, Map<string, Role[]>>();
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    private readonly memberships: Pick<MembershipQueries, 'accessQuestions'>,
    private readonly base: AccessFacts,
  ) {}

  /** Reads, in one query, the facts of every pair not read yet by this request (duplicates once). */
  async load(pairs: Iterable<AccessQuestionKey>): Promise<void> {
    const keys: AccessQuestionKey[] = [];
    // The organizations asked about per user ('' for none) in this call, so that duplicates are read once: the
    // first as a string, a Set only for a user asked about on several (one allocation per repeat, not per pair).
    const asked = new Map<string, string | Set<string>>();
    for (const p of pairs) {
      const known = p.userId === null ? this.orgs.has(p.orgId) : this.roles.get(p.userId)?.has(p.orgId) === true;
      if (known) continue;
      const user = p.userId ?? '';
      const seen = asked.get(user);
      if (seen === undefined) asked.set(user, p.orgId);
      else if (typeof seen === 'string') {
        if (seen === p.orgId) continue;
        asked.set(user, new Set([seen, p.orgId]));
      } else if (seen.has(p.orgId)) continue;
      else seen.add(p.orgId);
      keys.push(p);
    }
    if (keys.length === 0) return;
    const facts = await this.memberships.accessQuestions(keys);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const f = facts[i];
      this.orgs.set(key.orgId, f.org);
      if (key.userId === null) continue;
      this.users.set(key.userId, f.user);
      let byOrg = this.roles.get(key.userId);
      if (byOrg === undefined) this.roles.set(key.userId, (byOrg = new Map()));
      byOrg.set(key.orgId, f.roles);
    }
  }

  /** The user's status and platform-admin flag (undefined: no such user), read once per request. */
  async user(userId: string): Promise<QuestionUser> {
    if (!this.users.has(userId)) {
      const [f] = await this.memberships.accessQuestions([{ userId, orgId: '' }]);
      this.users.set(userId, f.user);
    }
    return this.users.get(userId);
  }

  async org(orgId: string): Promise<OrgRef | undefined> {
    if (!this.orgs.has(orgId)) await this.load([{ userId: null, orgId }]);
    return this.orgs.get(orgId);
  }

  async effectiveRoles(userId: string, orgId: string): Promise<Role[]> {
    let roles = this.roles.get(userId)?.get(orgId);
    if (roles === undefined) {
      await this.load([{ userId, orgId }]);
      roles = this.roles.get(userId)!.get(orgId)!;
    }
    return roles;
  }

  ancestorIds(orgId: string): Promise<string[]> {
    return this.once(`ancestors ${orgId}`, () => this.base.ancestorIds(orgId));
  }

  membershipRoots(userId: string): Promise<Array<{ orgId: string; roles: Role[] }>> {
    return this.once(`roots ${userId}`, () => this.base.membershipRoots(userId));
  }

  directRoles(orgId: string, userId: string): Promise<Role[] | undefined> {
    return this.once(`direct ${orgId} ${userId}`, () => this.base.directRoles(orgId, userId));
  }

  isPendingMember(orgId: string, userId: string): Promise<boolean> {
    return this.once(`pending ${orgId} ${userId}`, () => this.base.isPendingMember(orgId, userId));
  }

  clientOrg(clientCredentialId: string): Promise<string | undefined> {
    return this.once(`client org ${clientCredentialId}`, () => this.base.clientOrg(clientCredentialId));
  }

  clientRoles(clientCredentialId: string): Promise<readonly Role[] | undefined> {
    return this.once(`client roles ${clientCredentialId}`, () => this.base.clientRoles(clientCredentialId));
  }

  applicationPermissionsAt(orgId: string): Promise<string[]> {
    return this.once(`application permissions ${orgId}`, () => this.base.applicationPermissionsAt(orgId));
  }

  async isPlatformAdminUser(userId: string): Promise<boolean> {
    return (await this.user(userId))?.platformAdmin === true;
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let hit = this.memo.get(key) as Promise<T> | undefined;
    if (!hit) this.memo.set(key, (hit = read()));
    return hit;
  }
}
