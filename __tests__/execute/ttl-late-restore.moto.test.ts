/**
 * A restore that runs days after its backup (a deploy that failed on Friday, restored on Monday)
 * verifies a TTL table with a window of its own, opened when the restore starts, whatever source it
 * loads: the export in backup-dir, the S3 copy, the on-demand backup (through a temporary table,
 * which has no TTL), or a target that already holds the backup. The items whose TTL passed in
 * between are written all the same and the verify step counts them; the backup's window (six hours
 * after the backup) long passed, and verifying by it could only fail.
 */
import { describe, expect, it } from '@jest/globals'
import type { RestoreSource } from '../../src/types.js'
import { tableContent } from '../../test-support/execution.js'
import {
  backedUpTtlTable,
  lateRestore,
  TTL_TABLE,
  ttlItems,
  TTL_BUCKET,
  useTtlMoto
} from '../../test-support/ttl-backups.js'

const S3 = { bucket: TTL_BUCKET, prefix: '' }
const env = useTtlMoto()

/** The verify step's text: 5 items compared, the 7 whose TTL passed before the restore carried over and gone again. */
const VERIFIED =
  /^5 items alive past the TTL cutoff, content digest equal to the backup's; TTL on expiresAt: 7 item\(s\) whose TTL had passed were carried over, 7 expired during the copy \(gone by the time it was verified\); 7 item\(s\) with a TTL before 2025-03-10T23:00:00\.000Z/

describe('a TTL table restored three days after its backup is verified by a window of the restore', () => {
  const sources: [RestoreSource, string[]][] = [
    ['backup-dir', ['restore:done', 'verify:done', 'record restore:done']],
    ['s3', ['download:done', 'restore:done', 'verify:done', 'record restore:done']],
    [
      'aws-backup',
      [
        'restore from on-demand backup:done',
        'copy:done',
        'restore:done',
        'verify:done',
        'record restore:done',
        'delete temporary table:done'
      ]
    ]
  ]
  it.each(sources)(
    'from %s: every item written, verified, the expired ones counted',
    async (source, steps) => {
      const set = await backedUpTtlTable(env.clients, { backupDir: env.runner, s3: S3 })
      expect(set.manifest.ttl).toMatchObject({ attribute: 'expiresAt', expiring: 3, expired: 3 })

      const { result, expired } = await lateRestore(env.moto.endpoint, {
        ...(source === 'backup-dir' ? { backupDir: env.runner, localManifests: [set.manifestPath] } : {}),
        s3Bucket: source === 'aws-backup' ? null : S3
      })

      expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
      expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual(steps)
      expect(result.steps.find(s => s.action === 'verify')?.detail).toMatch(VERIFIED)
      expect(expired).toBe(7)
      // Written, expired ones too (DynamoDB deletes them again in its own time).
      expect(await tableContent(env.clients, TTL_TABLE)).toHaveLength(ttlItems().length)
      expect(result.restoredItems).toBe(12)
    }
  )

  it('a target that already holds the backup (its record lost) is found equal by the same window, and recorded', async () => {
    const set = await backedUpTtlTable(env.clients, {
      backupDir: env.runner,
      s3: S3,
      targetItems: ttlItems()
    })

    const { result, expired } = await lateRestore(env.moto.endpoint, {
      backupDir: env.runner,
      localManifests: [set.manifestPath]
    })

    expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
    expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual(['record restore:done'])
    expect(expired).toBe(7)
  })
})
