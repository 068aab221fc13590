import { Type, type Static } from '@sinclair/typebox';

/**
 * Request and response bodies of the access decision API: the OpenID AuthZEN Authorization API 1.0
 * (https://openid.net/specs/authorization-api-1_0.html), with the specification's snake_case field names, an
 * exception to contract section 1's camelCase (contract section 9). Unknown members are accepted and ignored
 * (AuthZEN section 10.1.1: "receivers MUST ignore unknown fields"), so every object here allows them.
 */

const open = { additionalProperties: true } as const;
/**
 * Text the API accepts in any string it reads (contract section 1): anything but U+0000, which PostgreSQL
 * cannot hold (text-rules.ts refuses it before any schema; the pattern says so in the document).
 */
export const STORABLE_TEXT = '^[^\\u0000]*$';
const idText = (description: string) =>
  Type.String({ minLength: 1, maxLength: 200, pattern: STORABLE_TEXT, description });
const properties = Type.Optional(
  Type.Object({}, { ...open, description: 'Attributes of the entity (AuthZEN); Arbor decides without them.' }),
);

/** AuthZEN section 5.1: who is asked about. Arbor knows users (`usr_…`) and client credentials (`cli_…`). */
export const authzenSubject = Type.Object(
  {
    type: Type.Union([Type.Literal('user'), Type.Literal('client')], {
      description: '`user` (id: a user id) or `client` (id: a client_id, the `sub` of its tokens).',
    }),
    id: idText('The user id or the client_id.'),
    properties,
  },
  open,
);

/** AuthZEN section 5.2: what is acted on. Arbor's resources are organizations. */
export const authzenResource = Type.Object(
  {
    type: Type.Literal('organization', { description: 'Always `organization`.' }),
    id: idText('The organization id.'),
    properties,
  },
  open,
);

/** AuthZEN section 5.3: the action is a permission name (contract section 4, or an application permission). */
export const authzenAction = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: STORABLE_TEXT,
      description: 'A permission, e.g. `orgs:write`.',
    }),
    properties,
  },
  open,
);

/**
 * AuthZEN section 5.4, with the members Arbor reads: `min_position` (answer only once the read models have
 * reached this log position: a write's `Arbor-Position`; waits up to MIN_POSITION_WAIT_MS, then 503) and
 * `explain` (say why: the grants that allow, or what is missing).
 */
export const authzenContext = Type.Object(
  {
    min_position: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Decide only on read models that include this log position (a write’s Arbor-Position).',
      }),
    ),
    explain: Type.Optional(Type.Boolean({ description: 'Explain the decision in `context.explanation`.' })),
  },
  open,
);

/** AuthZEN section 6.1: `POST /access/v1/evaluation`. */
export const evaluationRequest = Type.Object(
  { subject: authzenSubject, action: authzenAction, resource: authzenResource, context: Type.Optional(authzenContext) },
  { ...open, title: 'AccessEvaluationRequest' },
);

/** At most this many evaluations in one batch (a larger one is a 400). */
export const MAX_EVALUATIONS = 100;

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;

/**
 * AuthZEN section 7.1.1 as a schema: without a top-level default for `member`, there must be evaluations and
 * each must name `member` itself (an empty or absent `evaluations` makes the top level the one evaluation).
 */
const everyEvaluationHas = (member: 'subject' | 'action' | 'resource') => {
  // `{}`: the member's schema is the object's own; naming it here keeps `required` beside its property.
  const has = { properties: { [member]: {} }, required: [member] };
  return {
    if: { not: has },
    then: { required: ['evaluations'], properties: { evaluations: { minItems: 1, items: has } } },
  };
};

/** AuthZEN section 7.1: `POST /access/v1/evaluations`; top-level members are the defaults of each evaluation. */
export const evaluationsRequest = Type.Object(
  {
    subject: Type.Optional(authzenSubject),
    action: Type.Optional(authzenAction),
    resource: Type.Optional(authzenResource),
    context: Type.Optional(authzenContext),
    evaluations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            subject: Type.Optional(authzenSubject),
            action: Type.Optional(authzenAction),
            resource: Type.Optional(authzenResource),
            context: Type.Optional(authzenContext),
          },
          open,
        ),
        { maxItems: MAX_EVALUATIONS },
      ),
    ),
    options: Type.Optional(
      Type.Object(
        {
          evaluations_semantic: Type.Optional(
            Type.Union(
              EVALUATIONS_SEMANTICS.map((s) => Type.Literal(s)),
              { description: 'AuthZEN section 7.1.2; default `execute_all`.' },
            ),
          ),
        },
        open,
      ),
    ),
  },
  {
    ...open,
    title: 'AccessEvaluationsRequest',
    description:
      'Each evaluation needs a subject, an action and a resource: its own or the top-level default. Without evaluations (or with none), the top level is the one evaluation and needs all three.',
    allOf: (['subject', 'action', 'resource'] as const).map(everyEvaluationHas),
  },
);

const decisionContext = Type.Object({}, { ...open, description: 'Why, and at which log position.' });

/** AuthZEN section 5.5: a decision. `context.position` is the log position it was decided at. */
export const decisionSchema = Type.Object(
  { decision: Type.Boolean(), context: Type.Optional(decisionContext) },
  { title: 'AccessEvaluationResponse' },
);

export const evaluationsResponse = Type.Object(
  {
    evaluations: Type.Array(decisionSchema),
    context: Type.Optional(decisionContext),
  },
  { title: 'AccessEvaluationsResponse' },
);

export type AuthzenSubject = Static<typeof authzenSubject>;
export type AuthzenResource = Static<typeof authzenResource>;
export type AuthzenAction = Static<typeof authzenAction>;
export type AuthzenContext = Static<typeof authzenContext>;
export type EvaluationsRequest = Static<typeof evaluationsRequest>;
