import { decideRecordRequestMetadataDrop, decideSetAuditRetention, effectiveRetentionDays } from './audit-retention';
import { eventOrgPath } from './event-catalogue';
import { OrgTree } from './org-tree';
import { decideCreateOrg } from './org-decisions';
import type { StoredEvent } from './events';

describe('audit retention', () => {
  it('takes the shortest of the server default and the settings on the path; 0 is for ever', () => {
    expect(effectiveRetentionDays(365, [])).toBe(365);
    expect(effectiveRetentionDays(365, [null, 90, undefined, 400])).toBe(90);
    expect(effectiveRetentionDays(30, [90])).toBe(30);
    expect(effectiveRetentionDays(0, [])).toBe(0);
    expect(effectiveRetentionDays(0, [400, 120])).toBe(120);
  });

  it('records a setting of an existing organization, and refuses an unknown one or a bad number', () => {
    const tree = new OrgTree();
    const [created] = decideCreateOrg(tree, { orgId: 'org_1', name: 'A', parentId: null });
    tree.apply({
      ...created,
      id: 'e1',
      position: 1,
      streamVersion: 1,
      occurredAt: '',
      actor: { type: 'system', id: 'system' },
      orgPath: ['org_1'],
    } as StoredEvent);
    expect(decideSetAuditRetention(tree, { orgId: 'org_1', days: 30 })).toEqual([
      { type: 'OrgAuditRetentionSet', streamId: 'audit-retention-org_1', data: { orgId: 'org_1', days: 30 } },
    ]);
    expect(decideSetAuditRetention(tree, { orgId: 'org_1', days: null })[0].data).toEqual({
      orgId: 'org_1',
      days: null,
    });
    expect(() => decideSetAuditRetention(tree, { orgId: 'org_2', days: 30 })).toThrow(
      expect.objectContaining({ code: 'IAM_ERR_NOT_FOUND' }),
    );
    for (const days of [0, 36501, 1.5, '30', -1])
      expect(() => decideSetAuditRetention(tree, { orgId: 'org_1', days })).toThrow(
        expect.objectContaining({ code: 'IAM_ERR_VALIDATION' }),
      );
  });

  it('records a retention drop on the organization’s stream, or the server’s, and refuses a cutoff that is not an instant', () => {
    const before = '2026-11-01T10:00:00.000Z';
    const [server] = decideRecordRequestMetadataDrop({ before, orgId: null });
    expect(server).toEqual({
      type: 'RequestMetadataDropped',
      streamId: 'audit-retention-server',
      data: { before, orgId: null },
    });
    const [org] = decideRecordRequestMetadataDrop({ before, orgId: 'org_1' });
    expect(org).toMatchObject({ streamId: 'audit-retention-org_1', data: { before, orgId: 'org_1' } });
    // Its path: the organization's (a deleted one's own id), none for the server's.
    expect(eventOrgPath(new OrgTree(), server)).toEqual([]);
    expect(eventOrgPath(new OrgTree(), org)).toEqual(['org_1']);
    for (const bad of ['2026-11-01', '2026-11-01T10:00:00+01:00', 'yesterday', '2026-13-45T99:00:00.000Z'])
      expect(() => decideRecordRequestMetadataDrop({ before: bad, orgId: null })).toThrow(
        expect.objectContaining({ code: 'IAM_ERR_VALIDATION' }),
      );
  });
});
