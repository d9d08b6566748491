import { describe, expect, it } from '@jest/globals'
import {
  backupTimestamp,
  onDemandBackupName,
  parseOnDemandBackupName,
  restoredTagValue,
  s3ExportFolder,
  s3StageFolder,
  s3TableFolder,
  temporaryTableName,
  timestampToIso
} from '../../src/data/backup-set.js'

const AT = Date.parse('2025-03-04T05:06:07.890Z')

describe('on-demand backup names', () => {
  it.each([
    ['pr-5', 'restore'],
    ['pr_5_with_underscores', 'restore'],
    ['a', 'delete'],
    ['x.y-z_restore_q', 'delete'],
    ['S'.repeat(64), 'restore']
  ] as const)('stage %s, purpose %s: the name parses back to its parts', (stage, purpose) => {
    const name = onDemandBackupName(stage, purpose, AT)
    expect(name).toMatch(/^[a-zA-Z0-9_.-]{3,255}$/)
    expect(parseOnDemandBackupName(name)).toEqual({
      timestamp: '20250304T050607Z',
      takenAt: '2025-03-04T05:06:07Z',
      purpose,
      stage
    })
  })

  it.each([
    'orphan-guard-pr-5-main-20250304T050607Z', // the names of earlier versions (no stage)
    'orphan-guard_20250304T050607Z_copy_pr-5', // unknown purpose
    'orphan-guard_20251304T050607Z_restore_pr-5', // month 13
    'orphan-guard_20250304T050607Z_restore_', // no stage
    'my-backup',
    'xorphan-guard_20250304T050607Z_restore_pr-5',
    `orphan-guard_20250304T050607Z_restore_${'s'.repeat(65)}`
  ])('%s is not one of this action’s names', name => {
    expect(parseOnDemandBackupName(name)).toBeNull()
  })
})

describe('timestamps and S3 folders', () => {
  it('names a set by the second, in UTC', () => {
    expect(backupTimestamp(AT)).toBe('20250304T050607Z')
    expect(timestampToIso('20250304T050607Z')).toBe('2025-03-04T05:06:07Z')
    expect(timestampToIso('2025-03-04')).toBeNull()
  })

  it('lays out <prefix>/<stage>/<table>/<timestamp>/, with or without a prefix', () => {
    const bare = { bucket: 'b', prefix: '' }
    const prefixed = { bucket: 'b', prefix: 'guard/copies' }
    expect(s3StageFolder(bare, 'pr-5')).toBe('pr-5/')
    expect(s3TableFolder(prefixed, 'pr-5', 't')).toBe('guard/copies/pr-5/t/')
    expect(s3ExportFolder(prefixed, 'pr-5', 't', '20250304T050607Z')).toBe(
      'guard/copies/pr-5/t/20250304T050607Z/'
    )
    expect(s3ExportFolder(bare, 'pr-5', 't', '20250304T050607Z')).toBe('pr-5/t/20250304T050607Z/')
  })

  it('names the temporary table after what it is, within 255 characters', () => {
    expect(temporaryTableName('pr-5-orders', '20250304T050607Z')).toBe(
      'orphan-guard-restore_20250304T050607Z_pr-5-orders'
    )
    expect(temporaryTableName('t'.repeat(255), '20250304T050607Z')).toHaveLength(255)
    expect(restoredTagValue('pr-5', '20250304T050607Z')).toBe('pr-5/20250304T050607Z')
  })
})
