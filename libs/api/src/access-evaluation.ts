import {
  IamError,
  PERMISSIONS,
  clientStreamId,
  isIamError,
  isOwnerLevel,
  isPermission,
  membershipStreamId,
  type Role,
  type RoleDefinition,
  type StoredEvent,
} from '@arbor/domain';
import {
  RequestAccessFacts,
  accessPolicyAt,
  type AccessPolicy,
  type AccessQuestionKey,
  type ClientView,
  type OrgRef,
  type PermissionHolder,
  type Principal,
  type UserView,
} from '@arbor/application';
import type { ApiContext } from './api-context';
import type { AuthzenSubject } from './authzen-schemas';
import { pastLineageShownTo } from './past-visibility';

/**
 * How long a request's `context.min_position` may wait for the read models (milliseconds) before the answer
 * is a 503 with `Retry-After`. Shorter than a write's read-your-writes bound (10 s): a resource server asks
 * on its own request path, and may rather retry than hold its caller.
 */
export const MIN_POSITION_WAIT_MS = 5_000;

/** The `Retry-After` (seconds) of that 503. */
export const MIN_POSITION_RETRY_AFTER_SECONDS = 1;

/**
 * The log position an answer is decided at: once the read models include `minPosition` (if given), a position
 * they had reached before anything the decision reads (their checkpoint, or what the process last heard of it,
 * below), so the decision reflects at least every event up to it.
 * A `minPosition` the log itself has not reached (beyond the event store's head) is the caller's error, known at
 * once: 400 IAM_ERR_VALIDATION naming `path` (a JSON pointer into the body). One the log holds but the read
 * models have not projected yet waits up to MIN_POSITION_WAIT_MS, then 503 IAM_ERR_UNAVAILABLE with Retry-After.
 * The head is read only when the read models are not known to include `minPosition` already; a position a
 * write answered is committed before its answer, so it is never beyond the head read here.
 *
 * Without a query where the process knows the position (`ctx.projection.position`: the embedded projector's own)
 * or, unless `exact`, a position they have reached (`ctx.projection.atLeast`: an embedded worker's last word from
 * its writer, which may trail the checkpoint by a message; after a `minPosition` wait it is at least that). An
 * answer that names events at or before its position (an explanation) asks for `exact`: the checkpoint is read.
 */
export async function decisionPosition(
  ctx: ApiContext,
  minPosition: number | undefined,
  path = '/body/context/min_position',
  exact = false,
): Promise<number> {
  // What the process holds for sure: its projector's position, or (an embedded worker) its writer's last word.
  const held = ctx.projection.position ?? ctx.projection.atLeast ?? 0;
  if (minPosition !== undefined && minPosition > 0 && minPosition > held) {
    const head = await ctx.eventStore.headPosition();
    if (minPosition > head)
      throw new IamError(
        'IAM_ERR_VALIDATION',
        `Log position ${minPosition} does not exist yet: the log ends at ${head}.`,
        [{ path, message: `must not exceed the log's last position (${head})` }],
      );
    try {
      await ctx.projection.waitFor(minPosition, MIN_POSITION_WAIT_MS);
    } catch (e) {
      if (!isIamError(e) || e.code !== 'IAM_ERR_UNAVAILABLE') throw e;
      throw new IamError(
        'IAM_ERR_UNAVAILABLE',
        `The read models did not reach log position ${minPosition} within ${MIN_POSITION_WAIT_MS} ms; retry later.`,
        undefined,
        MIN_POSITION_RETRY_AFTER_SECONDS,
      );
    }
  }
  return ctx.projection.position ?? (exact ? undefined : ctx.projection.atLeast) ?? (await ctx.readModels.checkpoint());
}

/** A subject as the decision core sees it; undefined when Arbor knows no active subject by that id. */
interface ResolvedSubject {
  holder: PermissionHolder;
  client?: ClientView;
}

async function resolveSubject(view: DecisionView, subject: AuthzenSubject): Promise<ResolvedSubject | undefined> {
  if (subject.type === 'user') {
    const user = await view.user(subject.id);
    if (!user || user.status !== 'active') return undefined;
    return { holder: { type: 'user', id: subject.id, platformAdmin: user.platformAdmin } };
  }
  const client = await view.clientByClientId(subject.id);
  if (!client) return undefined;
  return {
    holder: { type: 'client', orgId: client.orgId, grants: client.scopes.filter(isPermission), roles: client.roles },
    client,
  };
}

/**
 * What a decision reads of its subject and of the tree: the present read models, or the temporal read model at a
 * past position (issue 14, point in time: `?asOf=`/`?asOfPosition=`). The caller rule is always today's (who may
 * ask about the past is decided by today's grants, contract section 8); the subject's grants are the view's.
 */
export interface DecisionView {
  /** The policy deciding the subject's grants (the request's, or one over the facts and roles of then). */
  policy: AccessPolicy<OrgRef>;
  /** The past position, or undefined for the present. */
  at?: number;
  user(userId: string): Promise<{ status: UserView['status']; platformAdmin: boolean } | undefined>;
  clientByClientId(clientId: string): Promise<ClientView | undefined>;
  /** Whether the organization exists (there, then). */
  orgExists(orgId: string): Promise<boolean>;
  /** Ancestor ids, root first. */
  ancestorIds(orgId: string): Promise<string[]>;
  /** The roles of a confirmed direct membership; undefined for none. */
  membershipRoles(orgId: string, userId: string): Promise<Role[] | undefined>;
}

/**
 * One request's decision state: its access facts (RequestAccessFacts: each read once, a batch's in one
 * query), the policy over them (the same rules as ctx.policy), and the subjects it resolved.
 * Made per request and dropped with it, so every answer reflects the read models as its request read them.
 */
export interface DecisionState {
  facts: RequestAccessFacts;
  /** Today's policy over the request's facts: the caller rule. */
  policy: AccessPolicy<OrgRef>;
  /** Where the subject's grants are read (the present, through `policy`, unless a past was asked). */
  view: DecisionView;
  /** By subject type, then id. */
  subjects: Map<string, Map<string, Promise<ResolvedSubject | undefined>>>;
}

/** The present as a DecisionView: the request's facts and policy, the read models. */
function presentView(ctx: ApiContext, facts: RequestAccessFacts, policy: AccessPolicy<OrgRef>): DecisionView {
  return {
    policy,
    user: (userId) => facts.user(userId),
    clientByClientId: (clientId) => ctx.readModels.clients.getByClientId(clientId),
    orgExists: async (orgId) => (await facts.org(orgId)) !== undefined,
    ancestorIds: (orgId) => ctx.readModels.orgs.ancestorIds(orgId),
    membershipRoles: async (orgId, userId) => (await ctx.readModels.memberships.get(orgId, userId))?.roles,
  };
}

/**
 * The past at `at` as a DecisionView: the temporal read model, and a policy over its facts and role definitions,
 * through the ancestors of then that today's grants show `principal` (pastLineageShownTo).
 */
async function pastView(ctx: ApiContext, principal: Principal, at: number): Promise<DecisionView> {
  const history = ctx.readModels.history;
  const policy = await accessPolicyAt(history, at, pastLineageShownTo(ctx, principal));
  return {
    policy,
    at,
    user: (userId) => history.user(userId, at),
    clientByClientId: (clientId) => history.clientByClientId(clientId, at),
    orgExists: async (orgId) => (await history.org(orgId, at)) !== undefined,
    // The policy's own ancestors of then, filtered as it counts them: an explanation names what the decision counted.
    ancestorIds: (orgId) => policy.facts.ancestorIds(orgId),
    membershipRoles: async (orgId, userId) => {
      const m = await history.membership(orgId, userId, at);
      return m === undefined || m.pending ? undefined : m.roles;
    },
  };
}

/**
 * A fresh state for one request, its facts loaded for `questions` in one query: for each, the subject (a
 * user) on the organization, and the caller on it when the caller rule will ask (a user, not a platform
 * admin, asking about someone else: for a self question the two are the same pair, read once).
 */
export async function decisionState(
  ctx: ApiContext,
  principal: Principal,
  questions: ReadonlyArray<Pick<Question, 'subject' | 'orgId'>>,
  past?: number,
): Promise<DecisionState> {
  const facts = new RequestAccessFacts(ctx.readModels.memberships, ctx.policy.facts);
  const pairs: AccessQuestionKey[] = [];
  const callerAsks = principal.type === 'user' && !principal.platformAdmin;
  for (const q of questions) {
    pairs.push({ userId: q.subject.type === 'user' ? q.subject.id : null, orgId: q.orgId });
    if (callerAsks) pairs.push({ userId: principal.id, orgId: q.orgId });
  }
  await facts.load(pairs);
  const policy = ctx.policy.over(facts);
  const view = past === undefined ? presentView(ctx, facts, policy) : await pastView(ctx, principal, past);
  return { facts, policy, view, subjects: new Map() };
}

/** One question: may `subject` do `action` on organization `orgId`? */
export interface Question {
  subject: AuthzenSubject;
  action: string;
  orgId: string;
  explain: boolean;
}

/** An AuthZEN decision (section 5.5); `context` only when explained (the caller adds `position`). */
export interface Decision {
  decision: boolean;
  context?: Record<string, unknown>;
}

/**
 * Answers one question for `principal`, after the caller rule (AccessPolicy.requireMayAsk: 404 or 403 as an
 * IamError). The answer is AccessPolicy.heldBy's, the same core that decides Arbor's own API, over the
 * request's facts (`state`, see decisionState); an unknown, disabled or erased subject holds nothing.
 * Explaining costs queries only when `explain` is set.
 */
export async function decide(
  ctx: ApiContext,
  principal: Principal,
  q: Question,
  position: number,
  state: DecisionState,
): Promise<Decision> {
  await mayAsk(state, principal, q.subject, q.orgId);
  const resolved = await subjectOf(state, q.subject);
  const held = resolved ? await state.view.policy.heldBy(resolved.holder, q.orgId) : new Set<string>();
  const decision = (held as ReadonlySet<string>).has(q.action);
  if (!q.explain) return { decision };
  // Why a denial, in detail, only to whom the subject is no stranger: a platform admin, or the subject asking
  // about itself. To anyone else an unknown subject, another tree's user and a client acting elsewhere read alike
  // (naming that client's organization, or telling an account that exists from one that does not, would say
  // more than the caller may see: contract section 4, "Users of other trees").
  const candid =
    (principal.type === 'user' &&
      (principal.platformAdmin || (q.subject.type === 'user' && q.subject.id === principal.id))) ||
    (principal.type === 'client' && q.subject.type === 'client' && q.subject.id === principal.clientId);
  return {
    decision,
    // A past explanation walks the past view's ancestors: those the caller may be shown (pastView), as the decision.
    context: { explanation: await explain(ctx, state.view, q, resolved, decision, position, candid) },
  };
}

/**
 * The caller rule (today's, AccessPolicy.requireMayAsk), and for a past question the organization must have
 * existed then: 404 otherwise, as a read of that past (contract section 8).
 */
async function mayAsk(state: DecisionState, principal: Principal, subject: AuthzenSubject, orgId: string) {
  const at = state.view.at;
  // A platform admin may read any past, also of an organization deleted since (contract section 8), as the
  // searches answer it: today's rule, which wants the organization to exist now, is not asked then.
  const adminInThePast = at !== undefined && principal.type === 'user' && principal.platformAdmin;
  if (!adminInThePast) await state.policy.requireMayAsk(principal, subject, orgId);
  if (at !== undefined && !(await state.view.orgExists(orgId)))
    throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} did not exist at log position ${at}.`);
}

/** The subject, resolved once per request (keyed by type, then id: no concatenated key to hash per question). */
function subjectOf(state: DecisionState, subject: AuthzenSubject) {
  let ofType = state.subjects.get(subject.type);
  if (ofType === undefined) state.subjects.set(subject.type, (ofType = new Map()));
  let resolving = ofType.get(subject.id);
  if (!resolving) ofType.set(subject.id, (resolving = resolveSubject(state.view, subject)));
  return resolving;
}

/** The actions (permissions) the subject holds on the organization (at `past`, if given), in canonical order. */
export async function permittedActions(
  ctx: ApiContext,
  principal: Principal,
  subject: AuthzenSubject,
  orgId: string,
  past?: number,
) {
  const state = await decisionState(ctx, principal, [{ subject, orgId }], past);
  await mayAsk(state, principal, subject, orgId);
  const resolved = await subjectOf(state, subject);
  if (!resolved) return [];
  const held = await state.view.policy.heldBy(resolved.holder, orgId);
  const builtIn = PERMISSIONS.filter((p) => held.has(p));
  const others = [...(held as ReadonlySet<string>)].filter((p) => !isPermission(p)).sort();
  return [...builtIn, ...others];
}

/**
 * The actions of `actions` (in permittedActions' canonical order) that come after `after` in that order: the
 * next page of an action search. `after` need not be among them (a grant ended between two pages): the page
 * still starts where that name would stand. '' means from the first.
 */
export function actionsAfter(actions: string[], after: string): string[] {
  if (after === '') return actions;
  const rank = (name: string): [number, string] => {
    const builtIn = (PERMISSIONS as readonly string[]).indexOf(name);
    return builtIn >= 0 ? [builtIn, ''] : [PERMISSIONS.length, name];
  };
  const [afterRank, afterName] = rank(after);
  return actions.filter((name) => {
    const [r, n] = rank(name);
    return r > afterRank || (r === afterRank && n > afterName);
  });
}

/**
 * `context.explanation` (contract section 9): for a permit, `grants`, each naming what gives the permission:
 * `platform_admin`; `membership` (the role, the organization it is held on, whether inherited from that
 * ancestor, and the event that last set the membership's roles); `client_grant` (the client's scope, its
 * organization, the event that issued it); `client_role` (a role of the client that grants it, see clientGrants). For a denial, `reason` and the `missing` permission:
 * `unknown_subject` and `outside_client_subtree` only when `candid` (the caller is a platform admin or the subject
 * itself), `not_granted` otherwise.
 */
async function explain(
  ctx: ApiContext,
  view: DecisionView,
  q: Question,
  resolved: ResolvedSubject | undefined,
  decision: boolean,
  position: number,
  candid = true,
): Promise<Record<string, unknown>> {
  const notGranted = {
    reason: 'not_granted',
    missing: q.action,
    detail: `No grant of the subject gives ${q.action} on ${q.orgId}.`,
  };
  if (!decision && !candid) return notGranted;
  if (!resolved)
    return { reason: 'unknown_subject', missing: q.action, detail: `No active ${q.subject.type} ${q.subject.id}.` };
  const holder = resolved.holder;
  const policy = view.policy;
  if (!decision) {
    const outside =
      holder.type === 'client' && q.orgId !== holder.orgId && !(await view.ancestorIds(q.orgId)).includes(holder.orgId);
    if (!outside) return notGranted;
    return {
      reason: 'outside_client_subtree',
      missing: q.action,
      detail: `The client acts within the subtree of ${holder.orgId} only.`,
    };
  }
  if (resolved.client) return { grants: await clientGrants(ctx, policy, q, resolved.client, position) };
  const userId = q.subject.id;
  const ancestors = await view.ancestorIds(q.orgId);
  const chain = [...ancestors, q.orgId];
  // Every grant that gives it (contract section 9): a platform admin's own memberships too, after the platform grant.
  const grants: Record<string, unknown>[] =
    holder.type === 'user' && holder.platformAdmin ? [{ kind: 'platform_admin' }] : [];
  for (const orgId of chain) {
    const roles = await view.membershipRoles(orgId, userId);
    if (!roles) continue;
    const giving = roles.filter(
      (r) => policy.roleReaches(r, orgId, q.orgId) && givesOnPermit(policy.roles.get(r), q.action),
    );
    if (giving.length === 0) continue;
    const event = eventRef(
      lastSetting(await ctx.eventStore.readStream(membershipStreamId(orgId, userId)), 'roles', position),
    );
    for (const role of giving)
      grants.push({
        kind: 'membership',
        role,
        organization_id: orgId,
        inherited: orgId !== q.orgId,
        membership: { organization_id: orgId, user_id: userId },
        event,
      });
  }
  return { grants };
}

/** The last event of a stream, at or before `position`, that set `field` (a membership's roles, a client's scopes). */
/**
 * What gives a client `q.action` on `q.orgId` (design of issue 13: its scopes and its roles): `client_grant`
 * when a scope does (the event that issued the scopes), `client_role` for each of its roles that grants it
 * and reaches there (the event that last set its roles). Its stream is read once, only when explaining.
 */
async function clientGrants(
  ctx: ApiContext,
  policy: AccessPolicy<OrgRef>,
  q: Question,
  client: ClientView,
  position: number,
): Promise<Record<string, unknown>[]> {
  const stream = await ctx.eventStore.readStream(clientStreamId(client.id));
  const common = { client_id: client.clientId, organization_id: client.orgId, inherited: client.orgId !== q.orgId };
  const grants: Record<string, unknown>[] = [];
  if (client.scopes.includes(q.action))
    grants.push({
      kind: 'client_grant',
      scope: q.action,
      ...common,
      event: eventRef(lastSetting(stream, 'scopes', position)),
    });
  for (const roleId of client.roles) {
    const role = policy.roles.get(roleId);
    const reaches = role !== undefined && (role.appliesTo === 'subtree' || client.orgId === q.orgId);
    if (reaches && givesOnPermit(role, q.action))
      grants.push({
        kind: 'client_role',
        role: roleId,
        ...common,
        event: eventRef(lastSetting(stream, 'roles', position)),
      });
  }
  return grants;
}

/**
 * Whether a role that reaches the organization gives `action` there, once the decision is a permit: it names
 * it, or it is owner-level and `action` an application permission (design13: then visible there, as the
 * permit shows).
 */
function givesOnPermit(role: RoleDefinition | undefined, action: string): boolean {
  if (role === undefined) return false;
  return (role.permissions as readonly string[]).includes(action) || (!isPermission(action) && isOwnerLevel(role));
}

function lastSetting(events: StoredEvent[], field: string, position: number): StoredEvent | undefined {
  let found: StoredEvent | undefined;
  for (const e of events)
    if (e.position <= position && (e.data as Record<string, unknown>)[field] !== undefined) found = e;
  return found;
}

const eventRef = (e: StoredEvent | undefined) => (e ? { id: e.id, type: e.type, position: e.position } : null);
