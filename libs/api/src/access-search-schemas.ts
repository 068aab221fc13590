import { Type } from '@sinclair/typebox';
import { SEARCH_TOKEN_PATTERN } from './access-search-tokens';
import { PERMISSION_NAME_PATTERN } from './role-schemas';
import { STORABLE_TEXT, authzenContext, authzenResource, authzenSubject } from './authzen-schemas';
import { idSchema } from './schemas';

/**
 * Request and response bodies of the AuthZEN 1.0 search APIs (OpenID Authorization API 1.0, "Search APIs"),
 * with the specification's field names (snake_case: an exception to contract section 1). Unknown members
 * are accepted and ignored, as the specification requires of receivers; the `properties` objects are
 * accepted and ignored too (Arbor decides from its own records only).
 */

/** Default and maximum `page.limit` (results per page). */
export const SEARCH_LIMIT_DEFAULT = 100;
export const SEARCH_LIMIT_MAX = 1000;

/** A permission name: built-in (`orgs:read`) or an application's (`billing:invoices:approve`): 2..5 segments. */
const actionName = Type.String({
  pattern: PERMISSION_NAME_PATTERN,
  maxLength: 204,
  description: 'A permission name, built-in or defined by an application (contract section 4).',
});
const properties = Type.Optional(Type.Record(Type.String(), Type.Unknown()));
const subjectType = Type.Unsafe<'user' | 'client'>({
  type: 'string',
  enum: ['user', 'client'],
  description: "`user` (id: a usr_ id) or `client` (id: the client credential's client_id).",
});
const organizationType = Type.Unsafe<'organization'>({ type: 'string', enum: ['organization'] });
const action = Type.Object({ name: actionName, properties }, { title: 'AuthZenAction' });
/** As in the evaluations: `min_position` makes the search wait for the read models; other members are ignored. */
const context = Type.Optional(authzenContext);
/** `page` of a search request (AuthZEN's pagination): `token` from the previous answer, `limit` per page. */
export const searchPageRequest = Type.Optional(
  Type.Object(
    {
      token: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 1024,
          pattern: SEARCH_TOKEN_PATTERN,
          description:
            'The `next_token` of the previous page (base64url `<keyset>.<tag>`), valid only for the search that issued it: every other member must be as in that request.',
        }),
      ),
      limit: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: SEARCH_LIMIT_MAX,
          description: `Results per page (1..${SEARCH_LIMIT_MAX}, default ${SEARCH_LIMIT_DEFAULT}).`,
        }),
      ),
      properties,
    },
    { title: 'AuthZenPageRequest' },
  ),
);

export const resourceSearchRequest = Type.Object(
  {
    subject: Type.Object({ type: subjectType, id: idSchema, properties }, { title: 'AuthZenSubject' }),
    action,
    resource: Type.Object(
      {
        type: organizationType,
        id: Type.Optional(Type.String({ pattern: STORABLE_TEXT, description: 'Ignored.' })),
        properties,
      },
      { title: 'AuthZenResourceType' },
    ),
    context,
    page: searchPageRequest,
  },
  { title: 'AuthZenResourceSearchRequest' },
);

export const subjectSearchRequest = Type.Object(
  {
    subject: Type.Object(
      {
        type: subjectType,
        id: Type.Optional(Type.String({ pattern: STORABLE_TEXT, description: 'Ignored.' })),
        properties,
      },
      { title: 'AuthZenSubjectType' },
    ),
    action,
    resource: Type.Object({ type: organizationType, id: idSchema, properties }, { title: 'AuthZenResource' }),
    context,
    page: searchPageRequest,
  },
  { title: 'AuthZenSubjectSearchRequest' },
);

/** `page` of a search answer. */
export const searchPageResponse = Type.Object(
  {
    next_token: Type.String({ description: 'Empty on the last page; otherwise the `page.token` of the next request.' }),
    count: Type.Integer({ minimum: 0, description: 'Results in this response.' }),
  },
  { title: 'AuthZenPageResponse' },
);
const responseContext = Type.Object(
  { position: Type.Integer({ minimum: 0, description: 'The log position the read models had reached.' }) },
  { title: 'AuthZenSearchContext' },
);

/** A page of search results: `page` first, as the specification recommends. */
export const searchResponse = (entity: 'organization' | 'subject') =>
  Type.Object(
    {
      page: searchPageResponse,
      context: responseContext,
      results: Type.Array(
        Type.Object({
          type: entity === 'organization' ? organizationType : subjectType,
          id: Type.String(),
        }),
      ),
    },
    { title: entity === 'organization' ? 'AuthZenResourceSearchResponse' : 'AuthZenSubjectSearchResponse' },
  );

/**
 * AuthZEN section 11.3 (action search): what the subject may do on the organization. Paged like the other
 * searches (a page token names the last action of its page).
 */
export const searchActionRequest = Type.Object(
  { subject: authzenSubject, resource: authzenResource, context, page: searchPageRequest },
  { additionalProperties: true, title: 'ActionSearchRequest' },
);

export const searchActionResponse = Type.Object(
  {
    page: searchPageResponse,
    context: responseContext,
    results: Type.Array(Type.Object({ name: Type.String() })),
  },
  { title: 'ActionSearchResponse' },
);
