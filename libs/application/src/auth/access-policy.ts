import { IamError, type Permission } from '@arbor/domain';
import type { OrgView, ReadModels } from '../ports/read-models';
import type { Principal } from './principal';

/**
 * The one place that decides whether a caller may do something. Every route asks it.
 *
 * Rules: "may not see" answers 404 (existence is not leaked), "may see but not do" answers 403. A token's
 * scopes narrow what its subject holds and never widen it. Platform admins hold every permission
 * everywhere. Membership roles arrive with the users issue; until then nobody else holds anything.
 */
export class AccessPolicy {
  constructor(private readonly readModels: ReadModels) {}

  /** The organization, if the principal may exercise `permission` on it; 404 or 403 otherwise. */
  async requireOnOrg(principal: Principal, permission: Permission, orgId: string): Promise<OrgView> {
    const org = await this.readModels.orgs.get(orgId);
    if (!org || !this.holdsAnywhere(principal, 'orgs:read')) throw notFound(orgId);
    if (!this.holdsAnywhere(principal, permission)) throw forbidden(permission);
    return org;
  }

  /** For acts outside any organization: creating, moving or deleting roots, reading the whole log. */
  requirePlatform(principal: Principal, permission: Permission): void {
    if (!principal.platformAdmin) throw new IamError('IAM_ERR_FORBIDDEN', 'Only a platform admin may do this.');
    if (!principal.scopes.has(permission)) throw forbidden(permission);
  }

  /** The subtrees the principal may read; undefined means all of them. */
  readableSubtrees(principal: Principal): string[] | undefined {
    return this.holdsAnywhere(principal, 'orgs:read') ? undefined : [];
  }

  private holdsAnywhere(principal: Principal, permission: Permission): boolean {
    return principal.platformAdmin && principal.scopes.has(permission);
  }
}

function notFound(orgId: string): IamError {
  return new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
}

function forbidden(permission: Permission): IamError {
  return new IamError('IAM_ERR_FORBIDDEN', `This needs the ${permission} permission.`);
}
