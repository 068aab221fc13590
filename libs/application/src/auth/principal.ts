import type { Permission } from '@arbor/domain';

/** Who is calling, as established from a verified access token and the current read models. */
export interface Principal {
  type: 'user';
  id: string;
  platformAdmin: boolean;
  /** What the token allows; the policy grants the intersection of this and what the subject holds. */
  scopes: ReadonlySet<Permission>;
  tokenId: string;
}
