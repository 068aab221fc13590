import {
  BUILT_IN_ROLES,
  BUILT_IN_ROLE_CATALOG,
  type Permission,
  type RoleCatalog,
  type RoleDefinition,
  type RoleId,
} from '@arbor/domain';
import type { RoleQueries, RoleView } from '../ports/read-models';

/**
 * The gateway's RoleCatalog (issue 13): the built-in roles plus an in-memory copy of every custom role of the
 * read models (`RoleQueries.all()`), so that AccessPolicy's synchronous lookups (`get`) cost a map lookup.
 *
 * Freshness: `refresh()` reads `RoleQueries.catalogPosition()` (one indexed row) and reloads `all()` only when
 * it moved. Invariant: after `refresh()` resolves, the copy holds every role event the read models had applied
 * when it was called (the position is read before `all()`, so a copy is never older than the position it is
 * filed under; a newer one is reloaded once more at the next move). Concurrent calls share one check, and a
 * call made while a check is under way waits for the next one, which starts after it: a check begun before a
 * caller's own position would not do.
 *
 * `knownPosition` (optional): the read models' position when the process knows it without a query (the
 * embedded projector applies every batch itself). Then a refresh at the position last checked costs nothing.
 */
export class ReadModelRoleCatalog implements RoleCatalog {
  private byId = new Map<RoleId, RoleDefinition>();
  private byOrg = new Map<string, RoleDefinition[]>();
  /** The catalog position of the copy (-1: never loaded). */
  private loadedAt = -1;
  /** The `knownPosition` the last completed check started at: nothing to do while the read models stay there. */
  private checkedAt = -1;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly queries: Pick<RoleQueries, 'all' | 'catalogPosition'>,
    private readonly knownPosition: () => number | undefined = () => undefined,
  ) {}

  get(roleId: RoleId): RoleDefinition | undefined {
    return BUILT_IN_ROLE_CATALOG.get(roleId) ?? this.byId.get(roleId);
  }

  /**
   * Built-ins first, then the custom roles defined on `ancestorIds` (root first) and on `orgId`, each
   * organization's by id. The copy holds no tree, so the ancestors are the caller's to give.
   * @throws Error when `ancestorIds` is missing (a programming error: the answer would silently omit roles).
   */
  visibleAt(orgId: string, ancestorIds?: readonly string[]): readonly RoleDefinition[] {
    if (ancestorIds === undefined)
      throw new Error(
        "The read models' role catalog needs the organization's ancestors (visibleAt(orgId, ancestorIds)).",
      );
    const out: RoleDefinition[] = [...BUILT_IN_ROLES];
    for (const id of [...ancestorIds, orgId]) out.push(...(this.byOrg.get(id) ?? []));
    return out;
  }

  /** See the class comment. Query errors reject (the request fails rather than decide on an unknown copy). */
  refresh(): Promise<void> {
    const known = this.knownPosition();
    // Equal, not "at most": a position that went back (the read models rebuilt from 0) is checked again.
    if (known !== undefined && known === this.checkedAt && this.loadedAt >= 0) return Promise.resolve();
    if (this.running === undefined) return (this.running = this.check(known));
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return (this.running = this.check(this.knownPosition()));
      });
    return this.queued;
  }

  private async check(known: number | undefined): Promise<void> {
    try {
      const position = await this.queries.catalogPosition();
      if (position !== this.loadedAt) this.load(await this.queries.all(), position);
      if (known !== undefined) this.checkedAt = known;
    } finally {
      this.running = undefined;
    }
  }

  private load(views: RoleView[], position: number): void {
    const byId = new Map<RoleId, RoleDefinition>();
    const byOrg = new Map<string, RoleDefinition[]>();
    // `all()` is ordered by id, so each organization's list is too.
    for (const v of views) {
      const role: RoleDefinition = {
        id: v.id,
        name: v.name,
        description: v.description,
        permissions: v.permissions as Permission[],
        appliesTo: v.appliesTo,
        orgId: v.orgId,
      };
      byId.set(role.id, role);
      const list = byOrg.get(v.orgId);
      if (list) list.push(role);
      else byOrg.set(v.orgId, [role]);
    }
    this.byId = byId;
    this.byOrg = byOrg;
    this.loadedAt = position;
  }
}
