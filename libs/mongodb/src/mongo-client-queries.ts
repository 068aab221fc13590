import type { ClientQueries, ClientView, Page, PageRequest } from '@arbor/application';
import type { Filter } from 'mongodb';
import type { ClientDoc, ReadModelCollections } from './mongo-collections';
import { afterId, emptyPage, hasNul, isStorable, pageLimit, toPage, type IdKeyset } from './mongo-page-cursor';
import { orgIdsInScope } from './mongo-user-queries';

export const toClientView = (doc: ClientDoc): ClientView => ({
  id: doc._id,
  clientId: doc.clientId,
  name: doc.name,
  orgId: doc.orgId,
  scopes: doc.scopes,
  roles: doc.roles,
  rolesGrantedBy: doc.rolesGrantedBy,
  createdAt: doc.createdAt,
  version: doc.version,
});

/** Client credentials (never their secrets, which only the vault holds). */
export class MongoClientQueries implements ClientQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async get(id: string): Promise<ClientView | undefined> {
    if (hasNul(id)) return undefined;
    const doc = await this.c.clients.findOne({ _id: id });
    return doc === null ? undefined : toClientView(doc);
  }

  async getByClientId(clientId: string): Promise<ClientView | undefined> {
    if (hasNul(clientId)) return undefined;
    const doc = await this.c.clients.findOne({ clientId });
    return doc === null ? undefined : toClientView(doc);
  }

  /**
   * Clients in id order, by `clients_org` when `orgId` is given; a scope is first resolved to its organization
   * ids (`orgIdsInScope`), then matched on the client's `orgId`.
   */
  async list(
    filter: { orgId?: string; withinSubtreesOf?: string[]; withinOrgs?: string[] },
    page: PageRequest,
  ): Promise<Page<ClientView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const conditions: Array<Filter<ClientDoc>> = [{ _id: { $gt: after } }];
    if (filter.orgId !== undefined) {
      if (hasNul(filter.orgId)) return emptyPage();
      conditions.push({ orgId: filter.orgId });
    }
    if (filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined) {
      const roots = (filter.withinSubtreesOf ?? []).filter(isStorable);
      const singles = (filter.withinOrgs ?? []).filter(isStorable);
      if (roots.length === 0 && singles.length === 0) return emptyPage();
      conditions.push({ orgId: { $in: await orgIdsInScope(this.c, roots, singles) } });
    }
    const docs = await this.c.clients
      .find({ $and: conditions })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    return toPage(docs, limit, toClientView, (doc): IdKeyset => ({ i: doc._id }));
  }
}
