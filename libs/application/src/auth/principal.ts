import type { Actor, Permission } from '@arbor/domain';

interface PrincipalBase {
  /** What the token allows; the policy grants the intersection of this and what the subject holds. */
  scopes: ReadonlySet<Permission>;
  /** The access token's `jti`. */
  tokenId: string;
  /**
   * The access token's `sid`: the session (refresh-token family) it was issued in; user tokens of the
   * password and refresh grants carry one. A password change by the user keeps this session alone.
   */
  sessionId?: string;
  /**
   * The access token itself, when the principal was established from one: the gateway forwards it to the
   * command service, which verifies it again rather than trust whom a gateway says it acts for.
   */
  accessToken?: string;
}

/** A person, authenticated by an access token from the password or refresh grant. */
export interface UserPrincipal extends PrincipalBase {
  type: 'user';
  id: string;
  platformAdmin: boolean;
}

/** A machine, authenticated by an access token from the client_credentials grant. */
export interface ClientPrincipal extends PrincipalBase {
  type: 'client';
  /** The client credential's resource id. */
  id: string;
  clientId: string;
  /** The client acts within this organization's subtree only. */
  orgId: string;
}

/** Who is calling, as established from a verified access token and the current read models. */
export type Principal = UserPrincipal | ClientPrincipal;

/** How a principal appears on the events its requests cause. */
export const actorOf = (principal: Principal): Actor =>
  principal.type === 'user' ? { type: 'user', id: principal.id } : { type: 'client', id: principal.clientId };
