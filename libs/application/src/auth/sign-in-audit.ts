import { emailKey, isMintedClientId } from '@arbor/domain';
import { FIRST_PARTY_CLIENT_ID } from './first-party-client';
import type { Logger } from '../logger';
import type { ReadModels } from '../ports/read-models';
import type {
  NewSignInRecord,
  SignInAuditStore,
  SignInKind,
  SignInOutcome,
  SignInQuery,
  SignInRecord,
} from '../ports/sign-in-audit-store';
import type { RequestOrigin } from '../commands/request-metadata';
import type { KeyedDigest } from '../security/keyed-digest';
import type { PersonalDataCipher } from '../security/personal-data-cipher';

/** What an OAuth endpoint reports of one request: never a secret (no password, no token). */
export interface SignInFacts {
  kind: SignInKind;
  grantType?: string;
  outcome: SignInOutcome;
  reason?: string;
  clientId?: string;
  /** The organization of `clientId` when the caller has just read it (a client_credentials grant issued). */
  clientOrgId?: string;
  userId?: string;
  tokenId?: string;
  sessionId?: string;
  /** A password grant's attempted username, when no user is named: kept as a keyed digest of its `emailKey`. */
  username?: string;
  origin: RequestOrigin;
}

/**
 * How the store keeps an attempted client id that is no client id's form (`clientIdDigest`): this prefix, then
 * its keyed digest, in the record's `clientId` column, so that `?clientId=` finds it by the same index.
 */
const CLIENT_ID_DIGEST_PREFIX = 'digest:';

/**
 * What is sealed under a named user's key: the request's address and user agent, the digest of an attempted
 * client id that is free text (`clientIdDigest`), and the ids that tie the record to the user's requests and
 * tokens (the request id, which the caller may choose, the token's `jti` and the session), as the log seals them.
 */
interface SealedOrigin {
  sourceAddress?: string;
  userAgent?: string;
  clientIdDigest?: string;
  requestId?: string;
  tokenId?: string;
  sessionId?: string;
}

/** Whether an attempted client id can be kept as it was sent: Arbor's own forms only, never a caller's free text. */
const isClientIdForm = (clientId: string): boolean => clientId === FIRST_PARTY_CLIENT_ID || isMintedClientId(clientId);

/**
 * Writes the sign-in audit (issue 14 item 7): seals the address and user agent under the named user's key (erasing
 * the user erases them; a user erased already gets none; with no user named they are in clear: a client's or an unknown
 * account's, dropped by retention), replaces an attempted username by its keyed digest (`DIGEST_KEY_IDS.signInUsernames`; a
 * known account is named by its user id instead), and an attempted client id that is not of a client id's form
 * (`cli_...`, `arbor-first-party`: a caller may send anything there, an email say) by its keyed digest under the
 * same key (`clientIdDigest`), and lists the organizations the record concerns: the client's, or the user's
 * memberships, each with its ancestors. Best effort: a failure to record is logged, never fails the request (the
 * sign-in itself is what users need; the log line says what was lost).
 */
export class SignInAudit {
  constructor(
    private readonly deps: {
      store: SignInAuditStore;
      readModels: ReadModels;
      cipher: PersonalDataCipher;
      usernames: KeyedDigest;
      log: Logger;
    },
  ) {}

  async record(facts: SignInFacts): Promise<void> {
    try {
      await this.deps.store.record(await this.build(facts));
    } catch (e) {
      this.deps.log.warn('sign-in audit record lost', { kind: facts.kind, outcome: facts.outcome, error: String(e) });
    }
  }

  /**
   * Records in position order (SignInAuditStore.list). `clientId` matches the id as recorded: in clear when it has
   * a client id's form, else by its digest (`clientIdDigest`).
   */
  async list(query: SignInQuery): Promise<SignInRecord[]> {
    const clientId = query.clientId === undefined ? undefined : await this.storedClientId(query.clientId);
    return this.deps.store.list({ ...query, clientId });
  }

  /** A record as auditors read it: its origin opened, or `{erased: true}` once its user's key is gone. */
  async open(stored: SignInRecord): Promise<
    Omit<SignInRecord, 'origin'> & {
      origin: { sourceAddress?: string; userAgent?: string } | { erased: true };
      clientIdDigest?: string;
    }
  > {
    const { clientId, ...rest } = stored;
    const record = clientId?.startsWith(CLIENT_ID_DIGEST_PREFIX)
      ? { ...rest, clientIdDigest: clientId.slice(CLIENT_ID_DIGEST_PREFIX.length) }
      : stored;
    // A user's record once they are erased: the ids went with the origin (records written before those were sealed
    // with it still hold them in clear: left out here too).
    const erased = () => {
      const { requestId: _r, tokenId: _t, sessionId: _s, ...kept } = record;
      return { ...kept, origin: { erased: true as const } };
    };
    // No origin on a record naming a user: written after that user's erasure (`build`).
    if (record.origin === undefined && record.userId !== undefined) return erased();
    const origin = record.origin ?? {};
    if (!('sealed' in origin)) return { ...record, origin };
    const opened = (await this.deps.cipher.openValue(origin.subjectId, origin.sealed)) as SealedOrigin | null;
    if (opened === null) return erased();
    const { clientIdDigest, requestId, tokenId, sessionId, ...openedOrigin } = opened;
    const ids = { requestId, tokenId, sessionId };
    for (const name of ['requestId', 'tokenId', 'sessionId'] as const) if (ids[name] === undefined) delete ids[name];
    return {
      ...record,
      ...ids,
      origin: openedOrigin,
      ...(clientIdDigest === undefined ? {} : { clientIdDigest }),
    };
  }

  /** The digest an auditor filters by to find the attempts on one username. */
  usernameDigest(username: string): Promise<string> {
    return this.deps.usernames.digest(emailKey(username));
  }

  /** An attempted client id as the store keeps it: as sent when of a client id's form, else prefix and digest. */
  private async storedClientId(clientId: string): Promise<string> {
    if (isClientIdForm(clientId)) return clientId;
    // A line apart from any username's digest input (an email key has no newline), under the same key.
    return CLIENT_ID_DIGEST_PREFIX + (await this.deps.usernames.digest(`client_id\n${clientId}`));
  }

  private async build(f: SignInFacts): Promise<NewSignInRecord> {
    let userId = f.userId;
    if (userId === undefined && f.username !== undefined)
      userId = (await this.deps.readModels.users.findByEmail(f.username))?.id;
    const origin: SealedOrigin = {};
    if (f.origin.sourceAddress !== undefined) origin.sourceAddress = f.origin.sourceAddress;
    if (f.origin.userAgent !== undefined) origin.userAgent = f.origin.userAgent;
    const record: NewSignInRecord = {
      occurredAt: new Date().toISOString(),
      kind: f.kind,
      outcome: f.outcome,
      orgIds: await this.orgsOf(userId, f.clientId, f.clientOrgId),
    };
    // The ids tying the record to the user's requests and tokens go with their address (sealed below).
    const ids = userId === undefined ? record : origin;
    ids.requestId = f.origin.requestId;
    if (f.tokenId !== undefined) ids.tokenId = f.tokenId;
    if (f.sessionId !== undefined) ids.sessionId = f.sessionId;
    if (f.clientId !== undefined) {
      const stored = await this.storedClientId(f.clientId);
      // Free text beside a named user may be theirs (their email, typed in the wrong field): its digest goes into
      // what is sealed under their key, erased with them; `?clientId=` does not match it there.
      if (userId !== undefined && stored.startsWith(CLIENT_ID_DIGEST_PREFIX))
        origin.clientIdDigest = stored.slice(CLIENT_ID_DIGEST_PREFIX.length);
      else record.clientId = stored;
    }
    if (userId === undefined) record.origin = origin;
    else {
      // A named user without a key was erased (records are written after the answer: an erasure may come between
      // a sign-in and its record): no origin is kept (or, with a key another process read within 5 s, one sealed
      // under the destroyed key), and the record reads as erased (`open`).
      const sealed = await this.deps.cipher.sealRequestRecord(userId, origin);
      if (sealed !== null) record.origin = { sealed, subjectId: userId };
    }
    if (f.grantType !== undefined) record.grantType = f.grantType;
    if (f.reason !== undefined) record.reason = f.reason;
    if (userId !== undefined) record.userId = userId;
    if (userId === undefined && f.username !== undefined) record.usernameDigest = await this.usernameDigest(f.username);
    return record;
  }

  /**
   * The organizations a record is filed under, each with today's ancestors: a user's direct memberships, or a
   * client's organization. A client revoked since (or ended with its deleted organization) is still filed under
   * the organization it had, so that its tree's auditors see someone trying a dead credential: its last version
   * in the temporal read model (HistoryQueries.lastClientByClientId), with the ancestors it had when it ended (a
   * tree its organization joined since learns nothing of it, as an organization moved in brings no past).
   */
  private async orgsOf(
    userId: string | undefined,
    clientId: string | undefined,
    clientOrgId: string | undefined,
  ): Promise<string[]> {
    const { readModels } = this.deps;
    const direct: string[] = [];
    if (userId !== undefined)
      direct.push(...(await readModels.memberships.membershipRoots(userId)).map((m) => m.orgId));
    else if (clientOrgId !== undefined) {
      // The organization the grant read. Should it have been deleted since (the record is written after the
      // answer), the lineage it had goes through the client's last version below, as for a revoked client.
      const lineage = await readModels.orgs.ancestorIds(clientOrgId);
      if (lineage.length > 0 || (await readModels.orgs.get(clientOrgId)) !== undefined)
        return [clientOrgId, ...lineage];
      return this.orgsOf(undefined, clientId, undefined);
    } else if (clientId !== undefined) {
      const client = await readModels.clients.getByClientId(clientId);
      if (client) direct.push(client.orgId);
      else if (isClientIdForm(clientId)) {
        const last = await readModels.history.lastClientByClientId(clientId);
        if (last !== undefined && last.endedAt !== null) {
          // Its lineage when it ended: the tree it belonged to then, not one its organization joined since.
          const { orgId } = last.client;
          const lineage = await readModels.history.parents(orgId, last.endedAt - 1);
          return [orgId, ...lineage.map((o) => o.id)];
        }
      }
    }
    const all = new Set(direct);
    for (const orgId of direct) for (const parent of await readModels.orgs.ancestorIds(orgId)) all.add(parent);
    return [...all];
  }
}
