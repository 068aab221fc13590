import type { DomainEvent } from './events';
import { clientStreamId, membershipStreamId, orgStreamId } from './events';
import type { MembershipIndex } from './membership-index';
import { IamError } from './iam-error';
import { checkOrgFields } from './org-rules';
import { checkPrecondition } from './precondition';
import { definitionsEndingWith } from './role-decisions';
import type { RoleIndex } from './role-index';
import { webhooksEndingWith } from './webhook-decisions';
import type { WebhookIndex } from './webhook-index';
import { MAX_ORG_DEPTH, nameKey, type OrgNode, type OrgTree } from './org-tree';

/**
 * Deciders: pure functions from (current state, command) to the events that record the change, or an
 * IamError. They never touch storage; the application runs them inside the store's write transaction.
 */

export interface CreateOrgCommand {
  orgId: string;
  name: unknown;
  parentId: string | null;
  description?: unknown;
  metadata?: unknown;
}

export interface ReplaceOrgCommand {
  orgId: string;
  name: unknown;
  parentId: string | null;
  description?: unknown;
  metadata?: unknown;
  /** The version from `If-Match`, when the caller sent one. */
  expectedVersion?: number;
}

export interface DeleteOrgCommand {
  orgId: string;
  recursive: boolean;
  expectedVersion?: number;
}

export function decideCreateOrg(tree: OrgTree, cmd: CreateOrgCommand): DomainEvent[] {
  const fields = checkOrgFields(cmd);
  let depth = 0;
  if (cmd.parentId !== null) {
    const parent = tree.get(cmd.parentId);
    if (!parent) throw new IamError('IAM_ERR_NOT_FOUND', `Parent organization ${cmd.parentId} does not exist.`);
    depth = parent.depth + 1;
  }
  if (depth > MAX_ORG_DEPTH) throw depthLimit();
  assertNameFree(tree, cmd.parentId, fields.name, undefined);
  return [
    {
      type: 'OrgCreated',
      streamId: orgStreamId(cmd.orgId),
      data: { orgId: cmd.orgId, parentId: cmd.parentId, ...fields },
    },
  ];
}

/** PUT semantics: the command carries the whole organization; a new parent moves the whole subtree. */
export function decideReplaceOrg(tree: OrgTree, cmd: ReplaceOrgCommand): DomainEvent[] {
  const org = mustExist(tree, cmd.orgId);
  checkVersion(org, cmd.expectedVersion);
  const fields = checkOrgFields(cmd);
  const events: DomainEvent[] = [];
  const streamId = orgStreamId(org.id);

  if (cmd.parentId !== org.parentId) {
    let newDepth = 0;
    if (cmd.parentId !== null) {
      const target = tree.get(cmd.parentId);
      if (!target) throw new IamError('IAM_ERR_NOT_FOUND', `Parent organization ${cmd.parentId} does not exist.`);
      if (tree.isInSubtreeOf(target.id, org.id))
        throw new IamError('IAM_ERR_CYCLE', 'An organization cannot be moved below itself or one of its descendants.');
      newDepth = target.depth + 1;
    }
    if (newDepth + tree.subtreeHeight(org.id) > MAX_ORG_DEPTH) throw depthLimit();
    assertNameFree(tree, cmd.parentId, fields.name, org.id);
    events.push({
      type: 'OrgMoved',
      streamId,
      data: { orgId: org.id, fromParentId: org.parentId, toParentId: cmd.parentId },
    });
  } else if (nameKey(fields.name) !== org.nameKey) {
    assertNameFree(tree, org.parentId, fields.name, org.id);
  }

  const changed =
    fields.name !== org.name ||
    fields.description !== org.description ||
    JSON.stringify(fields.metadata) !== JSON.stringify(org.metadata);
  if (changed) events.push({ type: 'OrgUpdated', streamId, data: { orgId: org.id, ...fields } });
  return events;
}

/**
 * A delete removes the subtree leaf first, so that every OrgDeleted removes a leaf; each organization's
 * memberships and client credentials end, as events of their own, then its webhook subscriptions (`webhooks`),
 * then the custom roles and application permissions defined on it (`roles`), before the organization itself.
 */
export function decideDeleteOrg(
  tree: OrgTree,
  cmd: DeleteOrgCommand,
  memberships?: MembershipIndex,
  roles?: RoleIndex,
  webhooks?: WebhookIndex,
): DomainEvent[] {
  const org = mustExist(tree, cmd.orgId);
  checkVersion(org, cmd.expectedVersion);
  if ((org.children?.size ?? 0) > 0 && !cmd.recursive)
    throw new IamError(
      'IAM_ERR_HAS_CHILDREN',
      'The organization has children; delete them first or pass recursive=true.',
    );
  const events: DomainEvent[] = [];
  for (const id of tree.subtreeIds(org.id)) {
    for (const [userId] of memberships?.membersOf(id) ?? [])
      events.push({
        type: 'UserRemovedFromOrg',
        streamId: membershipStreamId(id, userId),
        data: { orgId: id, userId },
      });
    for (const clientCredentialId of memberships?.clientsOf(id) ?? []) {
      const client = memberships!.client(clientCredentialId)!;
      events.push({
        type: 'ClientCredentialRevoked',
        streamId: clientStreamId(clientCredentialId),
        data: { clientCredentialId, clientId: client.clientId, orgId: id },
      });
    }
    // Its webhook subscriptions (contract section 10): none outlives its organization.
    events.push(...webhooksEndingWith(webhooks, id));
    // Then the role and application-permission definitions made on it (contract section 4.1).
    if (roles) events.push(...definitionsEndingWith(roles, id));
    events.push({
      type: 'OrgDeleted',
      streamId: orgStreamId(id),
      data: { orgId: id, parentId: tree.get(id)!.parentId },
    });
  }
  return events;
}

function mustExist(tree: OrgTree, orgId: string): OrgNode {
  const org = tree.get(orgId);
  if (!org) throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
  return org;
}

function checkVersion(org: OrgNode, expected: number | undefined): void {
  checkPrecondition('organization', org.version, expected);
}

/**
 * Names are unique among the children of one parent. Roots are no siblings of each other: each is a tenant of its
 * own, and two customers may share a name. Were roots unique, renaming one's own root (an owner may) would answer
 * 409 exactly when another tenant bears the name: a way to learn who else is a customer.
 */
function assertNameFree(tree: OrgTree, parentId: string | null, name: string, self: string | undefined): void {
  if (parentId === null) return;
  const holder = tree.siblingNamed(parentId, name);
  if (holder !== undefined && holder !== self)
    throw new IamError('IAM_ERR_NAME_TAKEN', `An organization named "${name}" already exists under this parent.`);
}

function depthLimit(): IamError {
  return new IamError('IAM_ERR_DEPTH_LIMIT', `Organization trees are at most ${MAX_ORG_DEPTH + 1} levels deep.`);
}
