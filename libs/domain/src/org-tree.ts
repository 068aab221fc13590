import type { StoredEvent } from './events';
import { isKnownEvent } from './events';
import { unhandledEventType } from './event-catalogue';
import { caselessKey } from './caseless';

/** Trees are at most 64 levels deep: a root has depth 0, so the deepest allowed depth is 63. */
export const MAX_ORG_DEPTH = 63;

export interface OrgNode {
  id: string;
  name: string;
  nameKey: string;
  parentId: string | null;
  depth: number;
  description: string | null;
  metadata: Record<string, unknown>;
  /** The version of the organization's stream: the `version` and ETag of the resource. */
  version: number;
  /**
   * Children by name key, which makes sibling-name checks a map lookup; absent until the first child (most
   * nodes are leaves). A child whose key another child already holds (only in logs written before names were
   * compared by full case folding: `Straße` beside `STRASSE`) is kept under `<key>\u0000<id>` (no name holds
   * U+0000), and takes the plain key when the holder leaves it.
   */
  children?: Map<string, string>;
}

/**
 * The tree as columns (one entry per organization, parents before their children, siblings in the order
 * they were added): far fewer objects to parse and build than one array per row.
 */
export interface OrgTreeSnapshot {
  position: number;
  ids: string[];
  names: string[];
  /** The parent's index in `ids`; -1 for a root. */
  parents: number[];
  descriptions: Array<string | null>;
  /** 0 stands for an empty object. */
  metadata: Array<Record<string, unknown> | 0>;
  versions: number[];
}

const shadowKey = (key: string, id: string): string => `${key}\u0000${id}`;
const shadowGroup = (parentId: string | null, key: string): string => `${parentId ?? ''}\u0000${key}`;

/** Shared by every organization without metadata; frozen, since nodes' metadata is replaced, never edited. */
const EMPTY_METADATA: Record<string, unknown> = Object.freeze({});

/** The comparison key of sibling names: Unicode canonical caseless matching (see `caselessKey`). */
export const nameKey = (name: string): string => caselessKey(name);

/**
 * The command side's view of the organization hierarchy, folded from the event log.
 *
 * Invariants, which hold after every `apply` of a log that the deciders produced:
 * - every node's parent exists, and `depth` is its parent's depth + 1 (0 for roots);
 * - no two children of one parent share a name key, except in logs written under an older, finer key
 *   (case-insensitive without full case folding): those are kept (replay never fails), the name stays taken
 *   while any of them holds it, and the deciders refuse every new collision. Roots may share one (each is a
 *   tenant of its own; the deciders do not compare them): they are kept the same way, `siblingNamed(null, ..)`
 *   answering the first;
 * - following parents from any node ends at a root (no cycles).
 * Commands are decided against this model inside the store's write transaction, after catching up with
 * the log, so the rules are checked against consistent state even with concurrent writers.
 */
export class OrgTree {
  private readonly nodes = new Map<string, OrgNode>();
  private readonly roots = new Map<string, string>();
  /** How many children share a key with a sibling, by `shadowGroup` (empty unless an old log collides). */
  private readonly shadowed = new Map<string, number>();
  /** Position of the last event applied; commands catch up from here. */
  position = 0;

  get size(): number {
    return this.nodes.size;
  }

  get(id: string): OrgNode | undefined {
    return this.nodes.get(id);
  }

  /** The id of the sibling named `name` under `parentId` (null: among roots), if any. */
  siblingNamed(parentId: string | null, name: string): string | undefined {
    const siblings = parentId === null ? this.roots : this.nodes.get(parentId)?.children;
    return siblings?.get(nameKey(name));
  }

  /** Ancestors of `id`, root first, without `id` itself. */
  ancestors(id: string): string[] {
    const out: string[] = [];
    let node = this.nodes.get(id);
    while (node && node.parentId !== null) {
      out.push(node.parentId);
      node = this.nodes.get(node.parentId);
    }
    return out.reverse();
  }

  /** Ancestors then `id` itself: the `orgPath` of events about `id`. */
  path(id: string): string[] {
    return [...this.ancestors(id), id];
  }

  isInSubtreeOf(candidate: string, rootId: string): boolean {
    let node = this.nodes.get(candidate);
    while (node) {
      if (node.id === rootId) return true;
      node = node.parentId === null ? undefined : this.nodes.get(node.parentId);
    }
    return false;
  }

  /** How many levels lie below `id` (0 for a leaf). */
  subtreeHeight(id: string): number {
    const base = this.nodes.get(id)?.depth ?? 0;
    let max = base;
    for (const nodeId of this.subtreeIds(id)) {
      const d = this.nodes.get(nodeId)!.depth;
      if (d > max) max = d;
    }
    return max - base;
  }

  /** `id` and everything below it, children before their parents (the order a recursive delete needs). */
  subtreeIds(id: string): string[] {
    const out: string[] = [];
    const stack: Array<{ id: string; expanded: boolean }> = [{ id, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      const node = this.nodes.get(top.id);
      if (!node) continue;
      if (top.expanded) {
        out.push(top.id);
        continue;
      }
      stack.push({ id: top.id, expanded: true });
      for (const child of node.children?.values() ?? []) stack.push({ id: child, expanded: false });
    }
    return out;
  }

  apply(event: StoredEvent): void {
    if (event.position > this.position) this.position = event.position;
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'OrgCreated': {
        const d = event.data;
        const parent = d.parentId === null ? undefined : this.nodes.get(d.parentId);
        const node: OrgNode = {
          id: d.orgId,
          name: d.name,
          nameKey: nameKey(d.name),
          parentId: d.parentId,
          depth: parent ? parent.depth + 1 : 0,
          description: d.description,
          metadata: d.metadata,
          version: event.streamVersion,
        };
        this.nodes.set(node.id, node);
        this.addSibling(node.parentId, node.nameKey, node.id);
        return;
      }
      case 'OrgUpdated': {
        const node = this.nodes.get(event.data.orgId);
        if (!node) return;
        this.removeSibling(node.parentId, node.nameKey, node.id);
        node.name = event.data.name;
        node.nameKey = nameKey(event.data.name);
        node.description = event.data.description;
        node.metadata = event.data.metadata;
        node.version = event.streamVersion;
        this.addSibling(node.parentId, node.nameKey, node.id);
        return;
      }
      case 'OrgMoved': {
        const node = this.nodes.get(event.data.orgId);
        if (!node) return;
        this.removeSibling(node.parentId, node.nameKey, node.id);
        node.parentId = event.data.toParentId;
        node.version = event.streamVersion;
        this.addSibling(node.parentId, node.nameKey, node.id);
        const parent = node.parentId === null ? undefined : this.nodes.get(node.parentId);
        const delta = (parent ? parent.depth + 1 : 0) - node.depth;
        if (delta !== 0) for (const id of this.subtreeIds(node.id)) this.nodes.get(id)!.depth += delta;
        return;
      }
      case 'OrgDeleted': {
        const node = this.nodes.get(event.data.orgId);
        if (!node) return;
        this.removeSibling(node.parentId, node.nameKey, node.id);
        this.nodes.delete(node.id);
        return;
      }
      // Events about users, memberships and clients, and retention settings, leave the hierarchy as it is.
      case 'OrgAuditRetentionSet':
      case 'RequestMetadataDropped':
      case 'UserCreated':
      case 'UserUpdated':
      case 'UserDisabled':
      case 'UserEnabled':
      case 'UserPasswordChanged':
      case 'UserPasswordSet':
      case 'UserErased':
      case 'UserAddedToOrg':
      case 'MembershipConfirmed':
      case 'OrgUserUpdated':
      case 'UserRemovedFromOrg':
      case 'ClientCredentialIssued':
      case 'ClientCredentialRolesChanged':
      case 'ClientCredentialRevoked':
      case 'ApplicationPermissionDefined':
      case 'ApplicationPermissionUpdated':
      case 'ApplicationPermissionDeleted':
      case 'RoleDefined':
      case 'RoleUpdated':
      case 'RoleDeleted':
      case 'WebhookSubscriptionCreated':
      case 'WebhookSubscriptionUpdated':
      case 'WebhookSecretRotated':
      case 'WebhookSubscriptionDisabled':
      case 'WebhookSubscriptionEnabled':
      case 'WebhookReplayRequested':
      case 'WebhookSubscriptionDeleted':
        return;
      default:
        return unhandledEventType(event);
    }
  }

  /** The whole tree as plain data; `fromSnapshot` of it answers every query exactly as this tree does. */
  toSnapshot(): OrgTreeSnapshot {
    const snapshot: OrgTreeSnapshot = {
      position: this.position,
      ids: [],
      names: [],
      parents: [],
      descriptions: [],
      metadata: [],
      versions: [],
    };
    const rowOf = new Map<string, number>();
    const queue = [...this.roots.values()];
    for (let i = 0; i < queue.length; i++) {
      const n = this.nodes.get(queue[i])!;
      rowOf.set(n.id, i);
      snapshot.ids.push(n.id);
      snapshot.names.push(n.name);
      snapshot.parents.push(n.parentId === null ? -1 : rowOf.get(n.parentId)!);
      snapshot.descriptions.push(n.description);
      snapshot.metadata.push(Object.keys(n.metadata).length === 0 ? 0 : n.metadata);
      snapshot.versions.push(n.version);
      for (const child of n.children?.values() ?? []) queue.push(child);
    }
    // Every node hangs under a root (the invariant above); a tree that breaks it must not be persisted.
    if (queue.length !== this.nodes.size)
      throw new Error(`OrgTree: ${this.nodes.size - queue.length} organizations are not reachable from a root.`);
    return snapshot;
  }

  static fromSnapshot(snapshot: OrgTreeSnapshot): OrgTree {
    const tree = new OrgTree();
    const byRow: OrgNode[] = new Array(snapshot.ids.length);
    for (let i = 0; i < snapshot.ids.length; i++) {
      const p = snapshot.parents[i];
      const parent = p === -1 ? undefined : byRow[p];
      if (p !== -1 && (!parent || p >= i))
        throw new Error(`OrgTree snapshot: ${snapshot.ids[i]} comes before its parent.`);
      const name = snapshot.names[i];
      const metadata = snapshot.metadata[i];
      const node: OrgNode = {
        id: snapshot.ids[i],
        name,
        nameKey: nameKey(name),
        parentId: parent ? parent.id : null,
        depth: parent ? parent.depth + 1 : 0,
        description: snapshot.descriptions[i],
        metadata: metadata === 0 ? EMPTY_METADATA : metadata,
        version: snapshot.versions[i],
      };
      byRow[i] = node;
      tree.nodes.set(node.id, node);
      tree.addSibling(node.parentId, node.nameKey, node.id);
    }
    tree.position = snapshot.position;
    return tree;
  }

  private siblingsOf(parentId: string | null): Map<string, string> | undefined {
    return parentId === null ? this.roots : this.nodes.get(parentId)?.children;
  }

  private addSibling(parentId: string | null, key: string, id: string): void {
    let siblings: Map<string, string> | undefined = this.roots;
    if (parentId !== null) {
      const parent = this.nodes.get(parentId);
      siblings = parent ? (parent.children ??= new Map()) : undefined;
    }
    if (!siblings) return;
    const holder = siblings.get(key);
    if (holder === undefined || holder === id) siblings.set(key, id);
    else {
      // An old log's collision (see `children`): keep both, the first holder answers `siblingNamed`.
      siblings.set(shadowKey(key, id), id);
      this.shadowed.set(shadowGroup(parentId, key), (this.shadowed.get(shadowGroup(parentId, key)) ?? 0) + 1);
    }
  }

  /** Undoes `addSibling`; a child that shared the key takes it over, so the name stays taken. */
  private removeSibling(parentId: string | null, key: string, id: string): void {
    const siblings = this.siblingsOf(parentId);
    if (!siblings) return;
    const group = shadowGroup(parentId, key);
    const count = this.shadowed.get(group);
    if (siblings.get(key) !== id) {
      if (siblings.delete(shadowKey(key, id)) && count !== undefined) this.decrementShadowed(group, count);
      return;
    }
    siblings.delete(key);
    if (count === undefined) return;
    // Rare (old logs only): find one child that shares the key and promote it.
    const prefix = shadowKey(key, '');
    for (const [k, other] of siblings) {
      if (!k.startsWith(prefix)) continue;
      siblings.delete(k);
      siblings.set(key, other);
      this.decrementShadowed(group, count);
      return;
    }
  }

  private decrementShadowed(group: string, count: number): void {
    if (count <= 1) this.shadowed.delete(group);
    else this.shadowed.set(group, count - 1);
  }
}
