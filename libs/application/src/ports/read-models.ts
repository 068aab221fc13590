import type { StoredEvent } from '@arbor/domain';

export interface OrgView {
  id: string;
  name: string;
  parentId: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  depth: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface UserView {
  id: string;
  email: string | null;
  name: string | null;
  status: 'active' | 'disabled' | 'erased';
  platformAdmin: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** Opaque cursor from a previous page; an adapter rejects a malformed one with IAM_ERR_VALIDATION. */
  cursor?: string;
}

export interface OrgListFilter {
  parentId?: string | null;
  /** Case-insensitive "name contains". */
  q?: string;
  /** Only these organizations and what lies below them; undefined means everything (platform admins). */
  withinSubtreesOf?: string[];
}

export interface OrgQueries {
  get(id: string): Promise<OrgView | undefined>;
  list(filter: OrgListFilter, page: PageRequest): Promise<Page<OrgView>>;
  /** Descendants at most `maxDepth` levels below (null: all), ordered by depth, then name, then id. */
  children(id: string, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>>;
  /** Ancestors, root first, the direct parent last. */
  parents(id: string): Promise<OrgView[]>;
}

export interface UserQueries {
  get(id: string): Promise<UserView | undefined>;
  /** By email, compared case-insensitively. */
  findByEmail(email: string): Promise<UserView | undefined>;
}

/** Personal data as the projector hands it over, opened; null when its key has been destroyed. */
export interface PersonalData {
  email: string;
  name: string;
}

/** An event on its way into the read models, with any sealed personal data already opened. */
export interface ProjectableEvent extends StoredEvent {
  personal?: PersonalData | null;
}

/**
 * The read side. Invariants every adapter keeps:
 * - `apply` writes a batch and the new checkpoint in one transaction, and skips events at or below the
 *   checkpoint, so an event applied twice changes nothing;
 * - queries read only these tables, never the event log.
 */
export interface ReadModels {
  orgs: OrgQueries;
  users: UserQueries;
  checkpoint(): Promise<number>;
  apply(events: ProjectableEvent[]): Promise<number>;
  /** Drops every read model and the checkpoint, ready for a rebuild from position 0. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
