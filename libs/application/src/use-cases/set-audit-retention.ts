import { Type, type Static } from '@sinclair/typebox';
import { decideRecordRequestMetadataDrop, decideSetAuditRetention, IamError } from '@arbor/domain';
import { IdInput, commandType, defineUseCase } from './use-case';

/** SetAuditRetention (PUT .../audit-retention): `days` is checked by the decider, with a precise field error. */
export const SetAuditRetentionInput = Type.Object({
  type: commandType('SetAuditRetention'),
  orgId: IdInput,
  days: Type.Unknown(),
});
export type SetAuditRetentionInput = Static<typeof SetAuditRetentionInput>;

/** `orgs:write` on the organization: its admins (and platform admins) govern what is kept about their subtree. */
export const setAuditRetention = defineUseCase({
  type: 'SetAuditRetention',
  input: SetAuditRetentionInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'orgs:write', c.orgId);
  },
  decide: (state, c) => ({ events: decideSetAuditRetention(state.orgs, c) }),
});

export const RecordRequestMetadataDropInput = Type.Object({
  type: commandType('RecordRequestMetadataDrop'),
  before: Type.String(),
  orgId: Type.Union([IdInput, Type.Null()]),
});
export type RecordRequestMetadataDropInput = Static<typeof RecordRequestMetadataDropInput>;

/**
 * The retention purge records a drop before it makes it (RequestMetadataDropped): run as the system
 * (`commands.execute(cmd, {principal: 'system'})`, which skips `authorize`); refused (403) to every caller.
 */
export const recordRequestMetadataDrop = defineUseCase({
  type: 'RecordRequestMetadataDrop',
  input: RecordRequestMetadataDropInput,
  authorize: async () => {
    throw new IamError('IAM_ERR_FORBIDDEN', 'Only the retention purge records a drop of request metadata.');
  },
  decide: (_state, c) => ({ events: decideRecordRequestMetadataDrop(c) }),
});
