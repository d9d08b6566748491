import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { AwsClients, Sender } from '../aws/clients.js'
import { s3Uri } from '../aws/s3.js'
import { onDemandBackupName, s3ExportFolder } from '../data/backup-set.js'
import { exportTable } from '../data/export.js'
import { MANIFEST_FILE, type BackupManifest } from '../data/manifest.js'
import { S3ExportCopy, type S3CopyResult } from '../data/s3-copy.js'
import { assertWindowHolds, comparedParts, digestTable, ttlNote } from '../data/verify.js'
import { ttlWindow, type TtlWindow } from '../data/ttl.js'
import { errorMessage, Interrupted, OperationError, stopIfInterrupted } from '../errors.js'
import type { CallerIdentity, Finding, Logger, Policy, S3Location, StopHooks, WaitOptions } from '../types.js'
import { keysText, type TargetKeys } from '../data/key-fit.js'
import { checkExportOnDisk, targetKeysOf } from './export-check.js'
import { assertMayTouch, assertSafeToDelete, guardOf, SafetyRefusal, type OwedLookup } from './safety.js'
import { callText, timestamp, type StepLog } from './steps.js'
import {
  FENCE_SID,
  FENCED_ACTIONS,
  lowerWriteFence,
  raiseWriteFence,
  type WriteFence
} from './write-fence.js'
import {
  deleteForRestore,
  listDeleteForRestoreCalls,
  type BackupRecord,
  type OpContext
} from './table-ops.js'

export interface BackupDeleteInput {
  finding: Finding
  stage: string
  policy: Policy
  backupDir: string
  awsBackup: boolean
  /** The `s3-bucket` input: where the copy outside the runner goes (null: only the on-demand backup). */
  s3Bucket: S3Location | null
  /** The S3 client of the bucket's region (the action's aws-region, where the bucket was checked). */
  s3?: Sender<S3Client>
  /** The run's credentials (their UserId is the one principal the write fence lets write). */
  identity: CallerIdentity | null
  dryRun: boolean
  /** The credentials' account (resolves AWS::AccountId in the template's keys of an environment-agnostic stack). */
  account?: string
  logger: Logger
  steps: StepLog
  wait: WaitOptions
  record: BackupRecord
  /** Registers what to undo if the process is told to stop (SIGINT/SIGTERM): the write fence. */
  onStop?: StopHooks
  /** Stops the export or its verification at the next page, and never deletes after a stop. */
  signal?: AbortSignal
  /** The copy is for the server-side path: its manifest says where ImportTable reads the items. */
  serverSide?: boolean
  /** Where the last check asks whether the table is owed a restore (execute/safety.ts). */
  owedGuard: OwedLookup
}

/** What backupAndDelete left: the verified copies of the deleted table. */
export interface BackupDeleteResult {
  /** The set's UTC timestamp (backup-set.ts): names the export folder and the on-demand backup. */
  timestamp: string
  manifest: BackupManifest
  /** The export on the runner: `<backup-dir>/<table>/<timestamp>/`. */
  dir: string
  s3: S3CopyResult | null
  backupArn: string | null
}

/**
 * The first part of every backup: the last check before a change. (The on-demand backup comes
 * last, right before the delete: confirmAndDelete.)
 */
export interface BackupStart {
  ctx: OpContext
  /** "The table T is untouched …": the state a failure before the delete leaves. */
  untouched: string
}

/** Where the export of a table goes: `<backup-dir>/<table>/<UTC timestamp>/`. */
export function exportDir(backupDir: string, table: string, epochMs: number): string {
  return join(backupDir, table, timestamp(epochMs))
}

/**
 * backup-restore, pre-deploy phase, one table. In order, each step only after the one before
 * succeeded:
 *  1. streamed export to disk, each data file uploaded to S3 as it is closed (with s3-bucket);
 *  2. the export read back from disk (checksums, count, digest), every item fitting the new
 *     table's keys;
 *  3. the S3 copy completed (manifest last) and verified against the manifest;
 *  4. the write fence (a resource policy denying item writes) put on the table;
 *  5. the table scanned again: count and content digest equal to the export (so nothing was
 *     written since the export began, and the fence holds what the copy holds);
 *  6. deleteForRestore (table-ops.ts): the on-demand backup (when aws-backup) until AVAILABLE, the
 *     last safety check against AWS with the copy outside the runner confirmed, the record of the
 *     delete in the set's S3 folder, deletion protection off and DeleteTable.
 * A failure before the delete leaves the table untouched (the fence taken down again, the record
 * of the delete taken back); backups are recorded the moment they are verified. So each table has its durable copy before it is
 * deleted, and before the next table is touched.
 */
export async function backupAndDelete(
  clients: AwsClients,
  input: BackupDeleteInput
): Promise<BackupDeleteResult | null> {
  const { finding, steps } = input
  const table = finding.tableName
  // One timestamp names the whole set: the export folder (on disk and in S3) and the on-demand backup.
  const at = input.wait.now()
  const dir = exportDir(input.backupDir, table, at)
  const backupName = onDemandBackupName(input.stage, 'restore', at)
  const ctx: OpContext = { table, steps, wait: input.wait }
  const protectionOn = finding.live?.deletionProtection === true
  const target = targetKeysOf(finding, input.stage, input.account)
  const s3Folder = input.s3Bucket && s3ExportFolder(input.s3Bucket, input.stage, table, timestamp(at))

  if (input.dryRun) {
    steps.planned(
      table,
      'export',
      `Scan (parallel segments, ConsistentRead) into ${join(dir, MANIFEST_FILE)}`
    )
    steps.planned(table, 'check export', checkExportText(target))
    if (input.s3Bucket && s3Folder) {
      steps.planned(
        table,
        'durable copy',
        `PutObject / multipart upload (SHA-256 checksums) of the data files, then manifest.json, to ${s3Uri(input.s3Bucket.bucket, s3Folder)}; read back and checked against the manifest`
      )
    }
    steps.planned(
      table,
      'write fence',
      callText('PutResourcePolicy', {
        ResourceArn: finding.live?.arn ?? `<${table}>`,
        Policy: `<deny ${FENCED_ACTIONS.join(', ')} to all but ${input.identity?.userId ?? 'this session'}>`
      })
    )
    steps.planned(table, 'verify export', 'Scan: item count and content digest must equal the export')
    listDeleteForRestoreCalls(ctx, {
      backupName: input.awsBackup ? backupName : null,
      s3: input.s3Bucket && s3Folder ? { bucket: input.s3Bucket.bucket, folder: s3Folder } : null,
      protectionOn
    })
    return null
  }

  const start = await beginBackup(clients, input, timestamp(at))
  if (start === null) return null
  const { untouched } = start

  const copy =
    input.s3Bucket && s3Folder
      ? new S3ExportCopy(input.s3 ?? clients.s3, input.s3Bucket.bucket, s3Folder)
      : null
  // With TTL on, items may expire (and vanish) between the export and its verification: the window
  // sets them apart on both sides, and the rest is compared item for item (data/ttl.ts).
  const ttl = finding.live?.ttl
  const window =
    ttl?.enabled === true && ttl.attributeName ? ttlWindow(ttl.attributeName, input.wait.now()) : undefined
  let manifest: BackupManifest
  let s3: S3CopyResult | null
  try {
    manifest = await exportToDisk(clients, input, dir, untouched, copy, window, s3Folder)
    await assertExportReadable(manifest, dir, target, table, untouched)
    steps.done(
      table,
      'check export',
      `read back from disk: ${manifest.itemCount} items, checksums and digest match; ${checkExportText(target)}`
    )
    s3 = copy ? await completeCopy(copy, manifest, dir, table, untouched) : null
  } finally {
    // Nothing uploads on after this table is done with (or given up).
    await copy?.settle()
  }
  if (s3) {
    steps.done(
      table,
      'durable copy',
      `${s3.manifestUri}: ${s3.objects} objects, ${s3.bytes} bytes, checked against the manifest (${s3.verifiedBy.checksum} by S3's SHA-256 checksum, ${s3.verifiedBy.readBack} read back)`
    )
  }

  let arn: string | null = null
  await behindFence(clients, input, untouched, async fenced => {
    await verifyAgainstTable(clients, input, manifest, untouched, fenced, window)
    stopIfInterrupted(input.signal, `Interrupted before deleting ${table}`, `${untouched} Run again.`)
    // A verified, readable export is a backup from here on: reported even if the delete fails.
    input.record.manifest(join(dir, MANIFEST_FILE))
    ;({ backupArn: arn } = await confirmAndDelete(clients, input, ctx, {
      protectionOn,
      timestamp: timestamp(at),
      backupName,
      tableCreatedAt: manifest.table.createdAt ?? null,
      s3: s3 && {
        bucket: s3.bucket,
        folder: s3.folder,
        manifestKey: s3.manifestKey,
        manifestBytes: s3.manifestBytes
      },
      localDir: dir,
      dataKeptIn: [s3 ? `S3 copy ${s3.manifestUri}` : null, `export ${join(dir, MANIFEST_FILE)}`]
    }))
  })
  return { timestamp: timestamp(at), manifest, dir, s3, backupArn: arn }
}

/**
 * Before the first call that changes anything (an export to S3, a fence, a backup): the run is not
 * protected and no stack owns the table (assertMayTouch). Null when the table is already gone (said
 * in the step log).
 */
export async function beginBackup(
  clients: AwsClients,
  input: BackupDeleteInput,
  /** The set's timestamp (what this run takes of the table: never taken for an owed set). */
  own: string
): Promise<BackupStart | null> {
  const { finding, steps } = input
  const table = finding.tableName
  const ctx: OpContext = { table, steps, wait: input.wait }
  if (!(await assertMayTouch(clients, guardOf(finding, input.policy, { ...input.owedGuard, own })))) {
    steps.skipped(table, 'backup-restore', 'the table is already gone: nothing to back up or delete')
    return null
  }
  return { ctx, untouched: `The table ${table} is untouched (nothing was deleted).` }
}

/**
 * Runs `work` behind the write fence (`fenced`: whether one could be set): registered to come down
 * if the process is told to stop, and taken down when `work` fails (the table was not deleted).
 */
export async function behindFence(
  clients: AwsClients,
  input: BackupDeleteInput,
  untouched: string,
  work: (fenced: boolean) => Promise<void>
): Promise<void> {
  stopIfInterrupted(
    input.signal,
    `Interrupted before fencing ${input.finding.tableName}`,
    `${untouched} Run again.`
  )
  const fence = await fenceTable(clients, input, untouched)
  const removeHook = fence
    ? input.onStop?.add(`write fence on ${input.finding.tableName}`, () =>
        lowerWriteFence(clients.dynamodb, fence, input.wait)
      )
    : undefined
  try {
    await work(fence !== null)
  } catch (err) {
    if (fence) await takeFenceDown(clients, input, fence, err)
    throw err
  } finally {
    removeHook?.()
  }
}

/**
 * The end of every path that deletes a table whose data goes back after the deploy (backup-restore
 * on the runner, and both server-side copies): table-ops.ts deleteForRestore, the one delete of
 * them all: the on-demand backup (aws-backup, named for the set), the last safety check against
 * AWS (execute/safety.ts: ownership, stage, a copy outside the runner confirmed right now), the
 * record of the delete (`deleting.json` in the set's S3 folder), deletion protection off and
 * DeleteTable. Returns the on-demand backup's ARN (null without aws-backup).
 */
export async function confirmAndDelete(
  clients: AwsClients,
  input: BackupDeleteInput,
  ctx: OpContext,
  opts: {
    protectionOn: boolean
    /** The set's timestamp and the on-demand backup's name (data/backup-set.ts). */
    timestamp: string
    backupName: string
    /** The creation time of the table instance the copy was taken of (its manifest's). */
    tableCreatedAt: string | null
    s3: { bucket: string; folder: string; manifestKey: string; manifestBytes: number } | null
    localDir: string | null
    dataKeptIn: Array<string | null>
  }
): Promise<{ backupArn: string | null }> {
  const { finding } = input
  const s3 = opts.s3
  return deleteForRestore(clients, ctx, {
    set: {
      stage: input.stage,
      timestamp: opts.timestamp,
      tableArn: finding.live?.arn ?? '',
      tableCreatedAt: opts.tableCreatedAt,
      s3: s3 && { client: input.s3 ?? clients.s3, bucket: s3.bucket, folder: s3.folder },
      localDir: opts.localDir,
      backupName: input.awsBackup ? opts.backupName : null
    },
    record: input.record,
    lastCheck: backupArn =>
      assertSafeToDelete(clients, {
        ...guardOf(finding, input.policy, { ...input.owedGuard, own: opts.timestamp }),
        backupVerified: true,
        ...(input.s3 ? { s3Client: input.s3 } : {}),
        durableCopy: {
          s3: s3 && { bucket: s3.bucket, manifestKey: s3.manifestKey, manifestBytes: s3.manifestBytes },
          backupArn
        }
      }),
    protectionOn: opts.protectionOn,
    dataKeptIn: opts.dataKeptIn,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.serverSide
      ? { then: "deleted; ImportTable creates it anew from the S3 copy with the template's keys" }
      : {})
  })
}

/**
 * The write fence, or null (said in the step log, and as a warning) when it cannot be set: then
 * the scan that follows is the only proof that nothing was written, and a write after that scan
 * and before DeleteTable would be lost.
 */
export async function fenceTable(
  clients: AwsClients,
  input: BackupDeleteInput,
  untouched: string
): Promise<WriteFence | null> {
  const table = input.finding.tableName
  const tableArn = input.finding.live?.arn
  if (tableArn === undefined || tableArn === '') {
    throw new OperationError(
      `The ARN of ${table} is unknown, so no write fence can be set`,
      `${untouched} Run again.`
    )
  }
  const raised = await raiseWriteFence(
    clients.dynamodb,
    { table, tableArn, userId: input.identity?.userId ?? null },
    input.wait
  )
  if (raised.fence === null) {
    const message = `no write fence could be set (${raised.why}); a write that reaches the table after the scan below and before DeleteTable would be lost. Grant dynamodb:GetResourcePolicy, PutResourcePolicy and DeleteResourcePolicy on the table to fence it.`
    input.steps.add({ table, action: 'write fence', status: 'skipped', detail: message })
    input.logger.warning(`${table}: ${message}`)
    return null
  }
  input.steps.done(
    table,
    'write fence',
    `resource policy ${FENCE_SID} denies item writes to every principal but ${input.identity?.userId ?? 'any'}${raised.fence.previous !== null ? " (added to the table's own policy, which is put back as it was if the run stops before the delete)" : ''}; in effect after ${Math.round(raised.waitedMs / 1000)} s`
  )
  return raised.fence
}

/** The fence comes down after a failure before the delete; if it cannot, the error says so. */
export async function takeFenceDown(
  clients: AwsClients,
  input: BackupDeleteInput,
  fence: WriteFence,
  cause: unknown
): Promise<void> {
  const table = input.finding.tableName
  try {
    await lowerWriteFence(clients.dynamodb, fence, input.wait)
    input.steps.done(
      table,
      'write fence removed',
      'item writes are allowed again (the table was not deleted)'
    )
  } catch (err) {
    const state = err instanceof OperationError ? err.state : errorMessage(err)
    throw new OperationError(
      errorMessage(cause),
      `${cause instanceof OperationError ? `${cause.state} ` : ''}${state}`,
      { cause }
    )
  }
}

function checkExportText(target: TargetKeys | null): string {
  return target === null
    ? 'no template describes the new table, so its keys are not checked here (the restore checks them)'
    : `every item must fit the new table's keys: ${keysText(target)}`
}

/** The streamed export to disk; each data file goes to the S3 copy the moment it is complete. */
async function exportToDisk(
  clients: AwsClients,
  input: BackupDeleteInput,
  dir: string,
  untouched: string,
  copy: S3ExportCopy | null,
  window: TtlWindow | undefined,
  s3Folder: string | null
): Promise<BackupManifest> {
  const table = input.finding.tableName
  let manifest
  try {
    manifest = await exportTable(clients.dynamodb, {
      table,
      dir,
      region: input.finding.region,
      stage: input.stage,
      logger: input.logger,
      clock: input.wait,
      ...(window ? { ttl: window } : {}),
      onDataFile: copy ? (file, absPath) => copy.addDataFile(file, absPath) : undefined,
      signal: input.signal,
      ...(input.serverSide && input.s3Bucket && s3Folder
        ? {
            serverSide: {
              source: 'streamed-export' as const,
              bucket: input.s3Bucket.bucket,
              dataPrefix: `${s3Folder}data/`
            }
          }
        : {})
    })
  } catch (err) {
    if (err instanceof Interrupted) throw new Interrupted(err.message, `${untouched} Run again.`)
    throw new OperationError(
      `Export of ${table} failed: ${errorMessage(err)}`,
      `${untouched} Fix the cause and run again.`,
      {
        cause: err
      }
    )
  }
  input.steps.done(table, 'export', `${manifest.itemCount} items into ${join(dir, MANIFEST_FILE)}`)
  return manifest
}

/** The S3 copy completed (manifest last) and verified against the manifest. */
async function completeCopy(
  copy: S3ExportCopy,
  manifest: BackupManifest,
  dir: string,
  table: string,
  untouched: string
): Promise<S3CopyResult> {
  try {
    return await copy.complete(manifest, dir)
  } catch (err) {
    throw new OperationError(
      `The copy of the export of ${table} to ${s3Uri(copy.bucket, copy.folder)} failed: ${errorMessage(err)}`,
      `${untouched} Its export on the runner is in ${dir}; without a verified copy outside the runner the table is not deleted. Check the bucket (s3:PutObject, s3:GetObject) and run again.`,
      { cause: err }
    )
  }
}

/**
 * The table, scanned again (after the write fence, when there is one), holds exactly what was
 * exported: nothing was written since the export began, so the copy holds everything the delete
 * drops. With TTL on, items that expire meanwhile are set apart on both sides (data/ttl.ts).
 */
async function verifyAgainstTable(
  clients: AwsClients,
  input: BackupDeleteInput,
  manifest: BackupManifest,
  untouched: string,
  fenced: boolean,
  window: TtlWindow | undefined
): Promise<void> {
  const table = input.finding.tableName
  const found = await digestTable(clients.dynamodb, {
    table,
    clock: input.wait,
    ...(window ? { ttl: window } : {}),
    signal: input.signal,
    progress: { logger: input.logger, label: `Verify the export of ${table}`, total: manifest.itemCount }
  }).catch((err: unknown) => {
    if (err instanceof Interrupted) throw new Interrupted(err.message, `${untouched} Run again.`)
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
  const how = fenced ? ' (scanned behind the write fence)' : ' (no write fence: this scan is the proof)'
  input.steps.done(
    table,
    'verify export',
    note && found.ttl
      ? `${found.ttl.alive.itemCount} items alive past the TTL cutoff, content digest equal to the table's; ${note}${how}`
      : `${found.itemCount} items, content digest equal to the table's${how}`
  )
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
