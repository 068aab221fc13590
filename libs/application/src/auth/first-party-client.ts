/**
 * The OAuth client that user tokens are issued to (RFC 9068 `client_id`): Arbor's own first-party public
 * client (RFC 6749 section 2.1: no secret). The password and refresh_token grants serve only it, so every
 * user access token and refresh token names it. A request may name it with a body `client_id` and no
 * secret; a confidential client (client credentials) may not use those grants.
 */
export const FIRST_PARTY_CLIENT_ID = 'arbor-first-party';
