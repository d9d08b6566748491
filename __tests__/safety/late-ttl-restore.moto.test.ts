/**
 * Safety rule: a restore's TTL window never hides a lost item. A restore run days after its backup
 * sets apart only the items whose TTL lies before a cutoff six hours after the restore started;
 * an item alive past it that the target lacks fails the verification, and the restore stays owed
 * (not recorded). The backup's part that the window sets apart is computed from the data files, so
 * the files must be what the manifest says: files whose content digest is not the manifest's are
 * refused before anything is written.
 *
 * Seen to fail without its guard: with the restore's window six days long instead of six hours
 * (TTL_WINDOW_SECONDS), the lost item is set apart and the first test finds the restore verified;
 * with the precheck's comparison of the files' digest with the manifest's taken out, the second
 * test's restore writes the items.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync, writeFileSync } from 'node:fs'
import type { BackupManifest } from '../../src/data/manifest.js'
import { restoreTable } from '../../src/data/restore.js'
import { FileError } from '../../src/errors.js'
import { fakeTime, quietLogger, tableContent } from '../../test-support/execution.js'
import {
  backedUpTtlTable,
  FIRST_ALIVE_TTL_S,
  lateRestore,
  RESTORE_AT,
  TTL_TABLE,
  TTL_BUCKET,
  useTtlMoto
} from '../../test-support/ttl-backups.js'

const S3 = { bucket: TTL_BUCKET, prefix: '' }
const env = useTtlMoto()

describe("a late restore's TTL window hides no lost item", () => {
  it.each([['backup-dir'], ['aws-backup']])(
    'from %s: an item alive at the restore that the target lacks fails the verification; the restore stays owed',
    async source => {
      const set = await backedUpTtlTable(env.clients, { backupDir: env.runner, s3: S3 })

      // Leaves out the 7 expired items and one alive two days past the restore: a real loss.
      const { result, expired } = await lateRestore(env.moto.endpoint, {
        ...(source === 'backup-dir' ? { backupDir: env.runner, localManifests: [set.manifestPath] } : {}),
        goneBefore: FIRST_ALIVE_TTL_S + 1
      })

      expect(expired).toBe(8)
      expect(result.outcome).toBe('failed')
      expect(result.stateNote).toMatch(
        /Verification of sessions failed: item count of the items alive past the TTL cutoff: backup 5, table 4; content digest of the items alive past the TTL cutoff: backup [0-9a-f]{64}, table [0-9a-f]{64}/
      )
      expect(result.steps.some(s => s.action === 'record restore')).toBe(false)
      expect(result.pendingRestores).toEqual([expect.objectContaining({ table: TTL_TABLE })])
    }
  )

  it('data files that are not what the manifest says (same sha256, another content digest) are refused before a write', async () => {
    const set = await backedUpTtlTable(env.clients, { backupDir: env.runner, s3: S3 })
    const manifest = JSON.parse(readFileSync(set.manifestPath, 'utf8')) as BackupManifest
    writeFileSync(
      set.manifestPath,
      JSON.stringify({ ...manifest, contentDigest: { ...manifest.contentDigest, value: 'f'.repeat(64) } })
    )

    const err = await restoreTable(env.clients.dynamodb, {
      manifestPath: set.manifestPath,
      table: TTL_TABLE,
      logger: quietLogger,
      clock: fakeTime(RESTORE_AT),
      verify: true
    }).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(FileError)
    expect((err as Error).message).toMatch(
      new RegExp(
        `the data files' content digest is ${manifest.contentDigest.value} but the manifest says f{64}: the files are not the backup the manifest describes`
      )
    )
    expect(await tableContent(env.clients, TTL_TABLE)).toEqual([])
  })
})
