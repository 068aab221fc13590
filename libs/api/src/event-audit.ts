import { fieldChanges, isUpdateEventType, type FieldChange, type StoredEvent } from '@arbor/domain';
import { openRequestMetadata, type PersonalDataCipher } from '@arbor/application';
import type { EventStore } from '@arbor/application';

/** What `audit` of an event says (EVENT_AUDIT_SCHEMA in @arbor/domain): its request and, for an update, its changes. */
export interface EventAudit {
  request?: Awaited<ReturnType<typeof openRequestMetadata>>;
  changes?: FieldChange[] | { erased: true };
}

/**
 * The audit data of a page of events, for platform admins (issue 14, complete audit data): each event's request
 * metadata opened (`requestMetadata`, sealed under the acting user's key: `{erased: true}` once that key is
 * destroyed) and, for each update, the fields it changed before and after (`fieldChanges`, from the earlier
 * events of its stream: one stream read per stream on the page). UserUpdated's sealed `{email, name}` is opened on
 * both sides, so its changes name `email` and `name`; `{erased: true}` when the user was erased. Undefined for an
 * event with nothing to say.
 */
export async function auditOf(
  deps: { eventStore: Pick<EventStore, 'readStream'>; cipher: PersonalDataCipher },
  events: readonly StoredEvent[],
): Promise<Array<EventAudit | undefined>> {
  const streams = new Map<string, Promise<StoredEvent[]>>();
  const streamOf = (streamId: string) => {
    let read = streams.get(streamId);
    if (read === undefined) streams.set(streamId, (read = deps.eventStore.readStream(streamId)));
    return read;
  };
  return Promise.all(
    events.map(async (event) => {
      const audit: EventAudit = {};
      const request = await openRequestMetadata(deps.cipher, event);
      if (request !== undefined) audit.request = request;
      if (isUpdateEventType(event.type)) {
        const changes = fieldChanges(await streamOf(event.streamId), event) ?? [];
        audit.changes =
          event.type === 'UserUpdated' ? await openedPersonalChanges(deps.cipher, event, changes) : changes;
      }
      return Object.keys(audit).length === 0 ? undefined : audit;
    }),
  );
}

/** UserUpdated's one change (`personal`, sealed both sides) as the fields of `{email, name}` that changed. */
async function openedPersonalChanges(
  cipher: PersonalDataCipher,
  event: StoredEvent,
  changes: FieldChange[],
): Promise<FieldChange[] | { erased: true }> {
  const [personal] = changes;
  if (personal === undefined) return [];
  const userId = (event.data as { userId: string }).userId;
  const open = async (sealed: unknown) =>
    typeof sealed === 'string' ? ((await cipher.openValue(userId, sealed)) as Record<string, unknown> | null) : null;
  const [before, after] = [await open(personal.before), await open(personal.after)];
  if (after === null) return { erased: true };
  return (['email', 'name'] as const)
    .filter((field) => before?.[field] !== after[field])
    .map((field) => ({ field, before: before?.[field] ?? null, after: after[field] }));
}
