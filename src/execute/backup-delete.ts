import { join } from 'node:path'
import type { AwsClients } from '../aws/clients.js'
import { onDemandBackupName } from '../data/backup-set.js'
import { exportTable } from '../data/export.js'
import { MANIFEST_FILE, type BackupManifest } from '../data/manifest.js'
import { assertWindowHolds, comparedParts, digestTable, ttlNote } from '../data/verify.js'
import { ttlWindow } from '../data/ttl.js'
import { errorMessage, OperationError } from '../errors.js'
import type { Finding, Logger, Policy, WaitOptions } from '../types.js'
import { keysText, type TargetKeys } from '../data/key-fit.js'
import { checkExportOnDisk, targetKeysOf } from './export-check.js'
import { assertMayTouch, assertSafeToDelete, SafetyRefusal } from './safety.js'
import { timestamp, type StepLog } from './steps.js'
import {
  deleteTable,
  listDeleteCalls,
  listBackupCall,
  takeOnDemandBackup,
  type BackupRecord,
  type OpContext
} from './table-ops.js'

export interface BackupDeleteInput {
  finding: Finding
  stage: string
  policy: Policy
  backupDir: string
  awsBackup: boolean
  dryRun: boolean
  /** The credentials' account (resolves AWS::AccountId in the template's keys of an environment-agnostic stack). */
  account?: string
  logger: Logger
  steps: StepLog
  wait: WaitOptions
  record: BackupRecord
}

/** Where the export of a table goes: `<backup-dir>/<table>/<UTC timestamp>/`. */
export function exportDir(backupDir: string, table: string, epochMs: number): string {
  return join(backupDir, table, timestamp(epochMs))
}

/**
 * backup-restore, pre-deploy phase, one table. In order, each step only after the one before
 * succeeded: on-demand backup (when aws-backup) until AVAILABLE; streamed export; the table
 * scanned again and equal to the export (count and content digest); the export read back from
 * disk (checksums, count, digest) with every item fitting the new table's keys; a last safety
 * check against AWS; then deletion protection off and DeleteTable. A failure before the delete
 * leaves the table untouched; backups are recorded the moment they exist.
 */
export async function backupAndDelete(clients: AwsClients, input: BackupDeleteInput): Promise<void> {
  const { finding, steps } = input
  const table = finding.tableName
  // One timestamp names the whole set: the export folder (on disk and in S3) and the on-demand backup.
  const at = input.wait.now()
  const dir = exportDir(input.backupDir, table, at)
  const backupName = onDemandBackupName(input.stage, 'restore', at)
  const ctx: OpContext = { table, steps, wait: input.wait }
  const protectionOn = finding.live?.deletionProtection === true
  const target = targetKeysOf(finding, input.stage, input.account)

  if (input.dryRun) {
    if (input.awsBackup) listBackupCall(ctx, backupName)
    steps.planned(
      table,
      'export',
      `Scan (parallel segments, ConsistentRead) into ${join(dir, MANIFEST_FILE)}`
    )
    steps.planned(table, 'verify export', 'Scan: item count and content digest must equal the export')
    steps.planned(table, 'check export', checkExportText(target))
    listDeleteCalls(ctx, protectionOn)
    return
  }

  // Before the first call that changes anything (a backup included): not protected, not owned.
  if (
    !(await assertMayTouch(clients, {
      tableName: table,
      expectedStack: finding.spec.stack,
      declaredByTemplate: finding.spec.properties !== null,
      nestedPath: finding.spec.nestedPath,
      policy: input.policy
    }))
  ) {
    steps.skipped(table, 'backup-restore', 'the table is already gone: nothing to back up or delete')
    return
  }
  const arn = input.awsBackup ? await takeOnDemandBackup(clients, ctx, input.record, backupName) : null
  const untouched = `The table ${table} is untouched (nothing was deleted).${arn ? ` The on-demand backup ${arn} is AVAILABLE.` : ''}`

  const manifest = await exportVerified(clients, input, dir, untouched)
  await assertExportReadable(manifest, dir, target, table, untouched)
  steps.done(
    table,
    'check export',
    `read back from disk: ${manifest.itemCount} items, checksums and digest match; ${checkExportText(target)}`
  )

  // A verified, readable export is a backup from here on: reported even if the delete fails.
  input.record.manifest(join(dir, MANIFEST_FILE))
  await assertSafeToDelete(clients, {
    tableName: table,
    expectedStack: finding.spec.stack,
    declaredByTemplate: finding.spec.properties !== null,
    nestedPath: finding.spec.nestedPath,
    policy: input.policy,
    backupVerified: true
  })
  await deleteTable(clients, ctx, {
    protectionOn,
    protectionWhy: 'turned off after the backup was verified',
    dataKeptIn: [arn ? `on-demand backup ${arn}` : null, `export ${join(dir, MANIFEST_FILE)}`]
      .filter(Boolean)
      .join(' and ')
  })
}

function checkExportText(target: TargetKeys | null): string {
  return target === null
    ? 'no template describes the new table, so its keys are not checked here (the restore checks them)'
    : `every item must fit the new table's keys: ${keysText(target)}`
}

/** Export, record it, and check that the table (scanned again) holds exactly what was exported. */
async function exportVerified(
  clients: AwsClients,
  input: BackupDeleteInput,
  dir: string,
  untouched: string
): Promise<BackupManifest> {
  const table = input.finding.tableName
  // With TTL on, items may expire (and vanish) between the export and its verification: the window
  // sets them apart on both sides, and the rest is compared item for item (data/ttl.ts).
  const ttl = input.finding.live?.ttl
  const window =
    ttl?.enabled === true && ttl.attributeName ? ttlWindow(ttl.attributeName, input.wait.now()) : undefined
  let manifest
  try {
    manifest = await exportTable(clients.dynamodb, {
      table,
      dir,
      region: input.finding.region,
      stage: input.stage,
      logger: input.logger,
      clock: input.wait,
      ...(window ? { ttl: window } : {})
    })
  } catch (err) {
    throw new OperationError(
      `Export of ${table} failed: ${errorMessage(err)}`,
      `${untouched} Fix the cause and run again.`,
      {
        cause: err
      }
    )
  }
  input.steps.done(table, 'export', `${manifest.itemCount} items into ${join(dir, MANIFEST_FILE)}`)

  const found = await digestTable(clients.dynamodb, {
    table,
    clock: input.wait,
    ...(window ? { ttl: window } : {})
  }).catch((err: unknown) => {
    throw new OperationError(
      `Verifying the export of ${table} failed: ${errorMessage(err)}`,
      `${untouched} Run again.`,
      {
        cause: err
      }
    )
  })
  try {
    assertWindowHolds(window, input.wait.now(), `Verifying the export of ${table}`)
  } catch (err) {
    throw new OperationError(errorMessage(err), `${untouched} Run again.`, { cause: err })
  }
  const exported = {
    itemCount: manifest.itemCount,
    contentDigest: manifest.contentDigest.value,
    ttl: manifest.ttl
  }
  const { want, got, alive } = comparedParts(exported, found)
  if (want.itemCount !== got.itemCount || want.contentDigest !== got.contentDigest) {
    throw new OperationError(
      `The export of ${table} does not match the table (${alive ? 'items alive past the TTL cutoff: ' : ''}export: ${want.itemCount} items, table: ${got.itemCount} items${want.contentDigest !== got.contentDigest ? ', content digests differ' : ''}); was the table written to during the export?`,
      `${untouched} Stop writers to the table and run again.`
    )
  }
  const note = ttlNote(window, exported, found)
  input.steps.done(
    table,
    'verify export',
    note && found.ttl
      ? `${found.ttl.alive.itemCount} items alive past the TTL cutoff, content digest equal to the table's; ${note}`
      : `${found.itemCount} items, content digest equal to the table's`
  )
  return manifest
}

/**
 * The export, read back from disk as the restore will read it, is intact, and every item can be
 * written into the table the deploy creates; otherwise the restore after the delete would fail and
 * the data would live on only in the backup.
 */
async function assertExportReadable(
  manifest: BackupManifest,
  dir: string,
  target: TargetKeys | null,
  table: string,
  untouched: string
): Promise<void> {
  let check
  try {
    check = await checkExportOnDisk(manifest, dir, target)
  } catch (err) {
    throw new OperationError(
      `The export of ${table} cannot be read back: ${errorMessage(err)}`,
      `${untouched} Run again.`,
      {
        cause: err
      }
    )
  }
  if (check.problems.length > 0) {
    throw new OperationError(
      `The export of ${table} in ${dir} is damaged: ${check.problems.join('; ')}`,
      `${untouched} Check the disk of the runner and run again.`
    )
  }
  if (check.misfits > 0 && target !== null) {
    throw new SafetyRefusal(
      `Refusing to delete ${table}: ${check.misfits} of ${check.items} items do not fit the new table's keys (${keysText(target)}), so the restore after the deploy could not write them; first: ${check.firstMisfit}. Its export is kept in ${dir}. Migrate the items to the new keys yourself, or keep the old keys in the template, then run again.`
    )
  }
}
