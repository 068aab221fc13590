import type { OrgTree } from '../org-tree';
import { BUILT_IN_ROLE_IDS } from '../roles';

/**
 * A JSON Schema (draft 2020-12, the dialect of `ajv/dist/2020`) as a plain object. The domain only
 * describes data: compiling a schema (ajv) happens outside it, in adapters and tests.
 */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** Rewrites an event's `data` from one schema version to the next (`n` to `n + 1`); pure, never throws on valid input. */
export type Upcaster = (data: unknown) => unknown;

/** The names of the fields of `D` whose values are strings. */
type StringFieldOf<D> = { [F in keyof D]-?: D[F] extends string ? F : never }[keyof D] & string;

/**
 * Where an event carries personal data: `sealed` names the field that holds the sealed `{email, name}`
 * record (`SealedPersonalData`, opened only with the subject's own key), `subject` the field that names the
 * subject whose key seals it. The catalogue is the one place that says which events carry personal data.
 */
export interface PersonalDataFields<D> {
  sealed: StringFieldOf<D>;
  subject: StringFieldOf<D>;
}

/**
 * What the catalogue knows of one event type, whose current `data` shape is `D`.
 *
 * Invariants: `schema` describes `data` at `version` and its `$id` ends in `/v<version>.json`;
 * `upcasters[n]` exists for every n from the oldest version ever stored up to `version - 1`.
 */
export interface EventTypeEntry<D> {
  /** The schema version of the `data` the deciders write today (every stored event without one is version 1). */
  version: number;
  /** The JSON Schema of `data` at `version`. */
  schema: JsonSchema;
  /**
   * The event's `orgPath` (root first, the organization itself last; empty for events about no organization),
   * computed against the tree as it stands before the event applies.
   */
  orgPath: (tree: OrgTree, data: D) => string[];
  /** Present exactly when the event carries sealed personal data. */
  personalData?: PersonalDataFields<D>;
  /** Upcasters keyed by the version they read (`1` turns v1 data into v2). */
  upcasters?: Readonly<Record<number, Upcaster>>;
}

/** The base of every event schema's `$id`: `<base>/<EventType>/v<version>.json`. */
export const EVENT_SCHEMA_BASE = 'https://arbor.dev/schemas/events';

/** The `$id` of an event type's data schema at one version. */
export const eventSchemaId = (type: string, version: number): string => `${EVENT_SCHEMA_BASE}/${type}/v${version}.json`;

/**
 * A closed object schema for the `data` of `type` at `version`: `required` lists the properties always
 * present; every other property in `properties` is optional; no other property is allowed.
 */
export function eventDataSchema(
  type: string,
  version: number,
  properties: Record<string, JsonSchema>,
  required: string[] = Object.keys(properties),
  description?: string,
): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: eventSchemaId(type, version),
    title: `${type} data, version ${version}`,
    ...(description === undefined ? {} : { description }),
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  };
}

/** Property schemas shared by several event types. */
export const field = {
  orgId: { type: 'string', pattern: '^org_[0-9a-z]+$' },
  /** A root's parent: null. */
  parentId: { type: ['string', 'null'], pattern: '^org_[0-9a-z]+$' },
  userId: { type: 'string', pattern: '^usr_[0-9a-z]+$' },
  clientCredentialId: { type: 'string', pattern: '^cc_[0-9a-z]+$' },
  clientId: { type: 'string', pattern: '^cli_[0-9a-z]+$' },
  /** `v1.<iv>.<ciphertext+tag>`, base64url: see `SealedPersonalData`. */
  sealedPersonalData: { type: 'string', pattern: '^v1\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' },
  /**
   * Role ids: built-in (roles.ts) or custom (`role_<ulid>`, issue 13); at least one, no repeats. Still version 1:
   * widening the items is additive (every event written before holds built-in ids only).
   */
  roles: {
    type: 'array',
    items: { anyOf: [{ enum: [...BUILT_IN_ROLE_IDS] }, { type: 'string', pattern: '^role_[0-9a-z]+$' }] },
    minItems: 1,
    uniqueItems: true,
  },
  orgName: { type: 'string', minLength: 1 },
  description: { type: ['string', 'null'] },
  metadata: { type: 'object' },
} satisfies Record<string, JsonSchema>;

/** The path of an event about organization `orgId`, which exists before the event. */
export const pathOfOrg = (tree: OrgTree, data: { orgId: string }): string[] => tree.path(data.orgId);

/** Events about no organization. */
export const noOrgPath = (): string[] => [];
