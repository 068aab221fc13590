import type { Role } from '@arbor/domain';
import type {
  ApplicationPermissionView,
  ClientView,
  OrgUserView,
  OrgView,
  Page,
  PageRequest,
  RoleView,
  UserMembershipView,
  UserView,
} from './read-models';

/**
 * The read models as they were when the log ended at a past position `at` (issue 14 item 1, point in time;
 * contract section 8): the temporal read model. Every row the present read models hold of an organization, a
 * membership, a user's status, a client credential, a custom role or an application permission is also kept as a
 * version valid over a half-open range of log positions `[validFrom, validTo)`, written by the projector in the
 * same transaction as the present row (so it is rebuilt from the log like every read model). "At P" is the
 * version with `validFrom <= P < validTo`.
 *
 * Invariants every adapter keeps:
 * - `at` must not exceed the read models' checkpoint (the caller waits for the projection first): above it the
 *   answer would be the present's, not the past's.
 * - The tree is not versioned as a closure: depths and subtrees at P are walked through the parent links valid
 *   at P (one index lookup per level up, one per organization down), so a move writes one version, not one per
 *   pair of the subtree.
 * - Personal data (email, name) is never versioned: answers carry today's, so an erased user reads as erased
 *   in every past too (in `members`, status `erased` overrides the status held then; `user` and the searches,
 *   which answer decisions and ids only, keep the status of then).
 * - Orders and pages are those of the present queries of the same name (OrgQueries.children,
 *   MembershipQueries.listByOrg and listByUser), so a client pages the past as it pages the present.
 */
export interface HistoryQueries {
  /** The organization at `at`, with its depth then; undefined when it did not exist then. */
  org(orgId: string, at: number): Promise<OrgView | undefined>;
  /**
   * The log position that ended the organization (its deletion: its last version's end), or undefined while it
   * exists or when it never did. Its lineage when it ended is `parents(orgId, endedAt - 1)`.
   */
  orgEndedAt(orgId: string): Promise<number | undefined>;
  /** Its ancestors at `at`, root first, the direct parent last; empty for a root or an unknown organization. */
  parents(orgId: string, at: number): Promise<OrgView[]>;
  /**
   * Descendants at `at` at most `maxDepth` levels below (null: all), ordered by depth, then name key, then id,
   * keyset-paged (cursors of this method only). Empty when the organization did not exist then.
   */
  children(orgId: string, at: number, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>>;
  /**
   * Confirmed direct members at `at`, ordered by user id; `role` keeps members holding it then, `q` matches
   * today's email or name. Roles, version and `addedAt` are the membership's then; `status` the user's then
   * (`erased` when erased since); `userVersion` the user's version then.
   */
  members(
    orgId: string,
    at: number,
    filter: { role?: Role; q?: string },
    page: PageRequest,
  ): Promise<Page<OrgUserView>>;
  /** The user's confirmed direct memberships at `at`, ordered by organization id, with the organization's name then. */
  memberships(userId: string, at: number): Promise<UserMembershipView[]>;
  /** One direct membership at `at`, pending or not; undefined when there was none. */
  membership(orgId: string, userId: string, at: number): Promise<{ roles: Role[]; pending: boolean } | undefined>;
  /**
   * The user's status and platform-admin flag at `at`, as they were then (a decision of then is the decision then
   * was, also about a user erased since: it shows no personal data); undefined before creation.
   */
  user(userId: string, at: number): Promise<Pick<UserView, 'status' | 'platformAdmin'> | undefined>;
  /** A client credential at `at`, by its resource id; undefined when it did not exist then (or was revoked). */
  client(id: string, at: number): Promise<ClientView | undefined>;
  /** A client credential at `at`, by its `client_id`. */
  clientByClientId(clientId: string, at: number): Promise<ClientView | undefined>;
  /**
   * The last version ever held by the client credential with this `client_id`, whatever the position: today's
   * while it is active, else its state when it was revoked (or its organization deleted), with `endedAt` the log
   * position that ended it (null while active). Undefined when no credential ever had that client_id. For what
   * outlives a credential: the sign-in audit tells a revoked credential's organization from it.
   */
  lastClientByClientId(clientId: string): Promise<{ client: ClientView; endedAt: number | null } | undefined>;
  /** Every custom role at `at`, ordered by id (a role catalog of then). */
  roles(at: number): Promise<RoleView[]>;
  /** The application permissions defined on these organizations at `at`, ordered by organization id, then name. */
  permissionsOn(orgIds: readonly string[], at: number): Promise<ApplicationPermissionView[]>;
  /** Every application permission named `name` at `at`, ordered by defining organization id. */
  permissionsNamed(name: string, at: number): Promise<ApplicationPermissionView[]>;
  /**
   * The searches' reads at `at` (AccessSearchQueries, the same keyset contract: at most `limit` ids greater than
   * `afterId`, ascending): organizations of then in `scope` (subtrees walked through the parent links of then;
   * `'all'` every organization then); users active then holding then a confirmed membership
   * on a grant's organization with one of its roles, and with `platformAdmins` the platform admins of then; client
   * credentials of then on `orgIds` with `scope` among their scopes or a role grant's role on their organization.
   * Unlike the present's, a subtree scope walks the whole subtree of then for each page.
   */
  orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    at: number,
    afterId: string,
    limit: number,
  ): Promise<string[]>;
  userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    at: number,
    afterId: string,
    limit: number,
  ): Promise<string[]>;
  clientsAfter(
    orgIds: readonly string[],
    scope: string,
    at: number,
    afterId: string,
    limit: number,
    roleGrants?: ReadonlyArray<{ orgId: string; roles: readonly string[] }>,
  ): Promise<Array<{ id: string; clientId: string }>>;
}
