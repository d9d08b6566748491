import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { AwsClients, Sender } from '../aws/clients.js'
import { createOnDemandBackup, deleteBackup } from '../aws/backup.js'
import { describeTableOrNull } from '../aws/dynamodb-read.js'
import { deleteTableAndWait, turnOffDeletionProtection } from '../aws/dynamodb-write.js'
import { deleteObject, putObject, s3Uri, verifyObject } from '../aws/s3.js'
import {
  DELETE_INTENT_FORMAT,
  DELETING_MARKER,
  deleteIntentText,
  type DeleteIntent
} from '../data/backup-set.js'
import { errorMessage, OperationError, stopIfInterrupted } from '../errors.js'
import { callText, type StepLog } from './steps.js'
import type { WaitOptions } from '../types.js'

/**
 * The steps the destructive strategies share (on-demand backup, protection off + delete), each
 * with the state note a failure leaves behind.
 */

/** Backups are reported the moment they exist, so a later failure cannot lose track of them. */
export interface BackupRecord {
  manifest(path: string): void
  arn(arn: string): void
  /** A backup reported by arn() and deleted again (taken for a delete that did not happen). */
  dropArn(arn: string): void
}

export interface OpContext {
  table: string
  steps: StepLog
  wait: WaitOptions
}

/** An on-demand backup takes a while; no need to ask every couple of seconds. */
const BACKUP_POLL_MS = 5_000

/**
 * CreateBackup named `backupName` (data/backup-set.ts: onDemandBackupName, which later runs
 * recognise) and wait until AVAILABLE. A failure leaves the table untouched and says so.
 */
export async function takeOnDemandBackup(
  clients: AwsClients,
  ctx: OpContext,
  record: BackupRecord,
  backupName: string
): Promise<string> {
  const { table } = ctx
  let backup
  try {
    backup = await createOnDemandBackup(
      clients.dynamodb,
      {
        table,
        backupName
      },
      { ...ctx.wait, pollMs: BACKUP_POLL_MS }
    )
  } catch (err) {
    throw new OperationError(
      errorMessage(err),
      `${err instanceof OperationError ? `${err.state}; t` : 'T'}he table ${table} is untouched (nothing was deleted). Fix the cause and run again.`,
      { cause: err }
    )
  }
  record.arn(backup.arn)
  ctx.steps.done(table, 'on-demand backup', `${backup.arn} is AVAILABLE`)
  return backup.arn
}

/** DeleteTable (or turning deletion protection off for it) failed; `state` says whether the table is still there. */
export class DeleteTableFailed extends OperationError {}

/**
 * Deletion protection off (when on), DeleteTable, wait until gone. On failure the note says
 * whether the table still exists (asked right then), what keeps its data, and what to do.
 */
export async function deleteTable(
  clients: AwsClients,
  ctx: OpContext,
  opts: {
    protectionOn: boolean
    protectionWhy: string
    dataKeptIn: string | null
    /** The step's detail once deleted (default: the deploy creates it anew). */
    then?: string
  }
): Promise<void> {
  const { table, steps } = ctx
  let protectionTurnedOff = false
  try {
    if (opts.protectionOn) {
      await turnOffDeletionProtection(clients.dynamodb, table, ctx.wait)
      protectionTurnedOff = true
      steps.done(table, 'deletion protection off', opts.protectionWhy)
    }
    await deleteTableAndWait(clients.dynamodb, table, ctx.wait)
  } catch (err) {
    const exists = await describeTableOrNull(clients.dynamodb, table).then(
      t => (t === null ? 'is gone' : `still exists (${t.TableStatus ?? 'status unknown'})`),
      () => 'may or may not exist (DescribeTable failed too)'
    )
    const kept = opts.dataKeptIn ? ` Its data is safe in ${opts.dataKeptIn}.` : ''
    const protection = protectionTurnedOff ? ' Deletion protection was turned off.' : ''
    throw new DeleteTableFailed(
      `Deleting ${table} failed: ${errorMessage(err)}`,
      `The table ${table} ${exists}.${protection}${kept} Check it and run again.`,
      {
        cause: err
      }
    )
  }
  steps.done(table, 'delete', opts.then ?? 'deleted; the deploy creates it anew from the template')
}

/** The backup set a backup-restore delete leaves behind (data/backup-set.ts), and where its delete is recorded. */
export interface RestoreSet {
  stage: string
  /** The set's timestamp (names its folders and its on-demand backup). */
  timestamp: string
  /** The table instance about to be deleted. */
  tableArn: string
  tableCreatedAt: string | null
  /** The set's S3 folder (ends in '/'; with s3-bucket) and the client of its bucket's region. */
  s3: { client: Sender<S3Client>; bucket: string; folder: string } | null
  /** The set's folder in backup-dir (null when there is none). */
  localDir: string | null
  /** The on-demand backup to take now (aws-backup), named for the set; null: none. */
  backupName: string | null
}

/**
 * THE delete of every path whose data goes back after the deploy (backup-restore, and any copy
 * path that deletes a table after copying it): each path verifies its copy, puts up the write fence
 * and checks the table against the copy, then calls this. In order, each only after the one before
 * succeeded:
 *  1. the on-demand backup (aws-backup) until AVAILABLE: taken of the fenced, verified table, so
 *     that a set with only an on-demand backup exists only when its run got this far;
 *  2. `lastCheck` (execute/safety.ts assertSafeToDelete, given that backup);
 *  3. the record of the delete (DeleteIntent) written to the set's S3 folder and read back
 *     (DELETING_MARKER; a set with an S3 folder and no such record is never owed), and to its
 *     backup-dir folder;
 *  4. deletion protection off and DeleteTable.
 * If anything fails before the table is gone, the record is taken back: the marker deleted, and the
 * on-demand backup taken for the delete deleted again (without an S3 folder it is the record; with
 * one, a later run without s3-bucket would take it for one), so that a later restore never takes
 * this set for the data of a table this action deleted. A run killed
 * outright (SIGKILL, a lost runner) between step 1 (or 3) and DeleteTable leaves the record behind
 * while the table stays: the README (Owed restores live in AWS) states that window.
 */
export async function deleteForRestore(
  clients: AwsClients,
  ctx: OpContext,
  opts: {
    set: RestoreSet
    record: BackupRecord
    /** The last safety check; throws when the table may not be deleted. */
    lastCheck: (backupArn: string | null) => Promise<void>
    protectionOn: boolean
    /** Where the data is kept besides the on-demand backup (for the failure note). */
    dataKeptIn: Array<string | null>
    signal?: AbortSignal
    /** The step's detail once deleted. */
    then?: string
  }
): Promise<{ backupArn: string | null }> {
  const { set, signal } = opts
  const { table } = ctx
  const backupArn = set.backupName
    ? await takeOnDemandBackup(clients, ctx, opts.record, set.backupName)
    : null
  const written: IntentWritten = { s3Key: null, localPath: null }
  try {
    const untouched = `The table ${table} is untouched (nothing was deleted). Run again.`
    stopIfInterrupted(signal, `Interrupted before deleting ${table}`, untouched)
    await opts.lastCheck(backupArn)
    const intent: DeleteIntent = {
      format: DELETE_INTENT_FORMAT,
      stage: set.stage,
      timestamp: set.timestamp,
      table: { name: table, arn: set.tableArn, createdAt: set.tableCreatedAt },
      backupArn,
      at: new Date(ctx.wait.now()).toISOString()
    }
    await recordDeleteIntent(ctx, set, intent, written)
    stopIfInterrupted(signal, `Interrupted before deleting ${table}`, untouched)
    await deleteTable(clients, ctx, {
      protectionOn: opts.protectionOn,
      protectionWhy: 'turned off after the backup was verified',
      dataKeptIn: [backupArn ? `on-demand backup ${backupArn}` : null, ...opts.dataKeptIn]
        .filter(Boolean)
        .join(' and '),
      ...(opts.then ? { then: opts.then } : {})
    })
  } catch (err) {
    throw await takeBackIntent(
      clients,
      ctx,
      set,
      {
        backupArn,
        written,
        record: opts.record,
        protectionOn: opts.protectionOn,
        dataKeptIn: opts.dataKeptIn
      },
      err
    )
  }
  return { backupArn }
}

interface IntentWritten {
  s3Key: string | null
  localPath: string | null
}

/** DELETING_MARKER into the set's S3 folder (read back: no delete without it) and its backup-dir folder. */
async function recordDeleteIntent(
  ctx: OpContext,
  set: RestoreSet,
  intent: DeleteIntent,
  written: IntentWritten
): Promise<void> {
  const body = Buffer.from(deleteIntentText(intent))
  if (set.s3) {
    const key = `${set.s3.folder}${DELETING_MARKER}`
    const uri = s3Uri(set.s3.bucket, key)
    let problem: string | null
    try {
      written.s3Key = key
      const stored = await putObject(set.s3.client, {
        bucket: set.s3.bucket,
        key,
        body,
        contentType: 'application/json'
      })
      const check = await verifyObject(set.s3.client, stored)
      problem = check.ok ? null : check.problem
    } catch (err) {
      problem = errorMessage(err)
    }
    if (problem !== null)
      throw new OperationError(
        `The record of the delete of ${ctx.table} (${uri}) could not be written: ${problem}`,
        `The table ${ctx.table} is untouched (nothing was deleted): without that record a later run would not know this action deleted it. Check s3:PutObject on the bucket and run again.`
      )
  }
  if (set.localDir) {
    const path = join(set.localDir, DELETING_MARKER)
    try {
      await mkdir(set.localDir, { recursive: true })
      await writeFile(path, body)
      written.localPath = path
    } catch {
      // backup-dir is a cache of the same job: the record in AWS (or the backup) is the one that counts.
    }
  }
  ctx.steps.done(
    ctx.table,
    'delete recorded',
    set.s3
      ? `${s3Uri(set.s3.bucket, `${set.s3.folder}${DELETING_MARKER}`)} names the table instance; only a backup so recorded is ever owed a restore`
      : `the on-demand backup, taken right before the delete, is the record; only a backup so recorded is ever owed a restore`
  )
}

/**
 * After a failure before the table was gone: the marker, and the on-demand backup taken for the
 * delete, deleted again. Returns the error to throw: after a failed DeleteTable of a table that
 * is still the instance the set was taken of, one whose state says that it keeps its data, what
 * was taken back, and not to delete it by hand (a restore would find no record of a delete and
 * load nothing); else the original (with what could not be taken back, if anything).
 */
async function takeBackIntent(
  clients: AwsClients,
  ctx: OpContext,
  set: RestoreSet,
  made: {
    backupArn: string | null
    written: IntentWritten
    record: BackupRecord
    protectionOn: boolean
    /** The copies besides the on-demand backup (the S3 copy, the export on the runner). */
    dataKeptIn: Array<string | null>
  },
  cause: unknown
): Promise<unknown> {
  const { table } = ctx
  const now = await describeTableOrNull(clients.dynamodb, table).catch(() => undefined)
  // Gone, going, unknown, or another instance (a table re-created under the name keeps its ARN,
  // so its creation time tells): the delete may have happened, so the record stays.
  if (
    now === undefined ||
    now === null ||
    now.TableStatus === 'DELETING' ||
    now.TableArn !== set.tableArn ||
    (set.tableCreatedAt !== null && now.CreationDateTime?.toISOString() !== set.tableCreatedAt)
  )
    return cause
  const taken: string[] = []
  const left: string[] = []
  let backupKept = made.backupArn !== null
  if (made.written.s3Key !== null && set.s3) {
    const uri = s3Uri(set.s3.bucket, made.written.s3Key)
    try {
      await deleteObject(set.s3.client, set.s3.bucket, made.written.s3Key)
      ctx.steps.done(table, 'delete record removed', `${uri} (the table was not deleted)`)
      taken.push(`the record of the delete (${uri}) was taken back`)
    } catch (err) {
      left.push(
        `The record ${uri} could not be deleted (${errorMessage(err)}): delete it yourself, or a later restore would take this backup for the data of a table this action deleted.`
      )
    }
  }
  if (made.written.localPath !== null) await rm(made.written.localPath, { force: true }).catch(() => {})
  // Also with an S3 folder: a later run without s3-bucket would take the backup for the record.
  if (made.backupArn !== null) {
    try {
      await deleteBackup(clients.dynamodb, made.backupArn)
      made.record.dropArn(made.backupArn)
      backupKept = false
      ctx.steps.done(
        table,
        'on-demand backup removed',
        `${made.backupArn}: taken for a delete that did not happen (the table still holds its data)`
      )
      taken.push(`the on-demand backup ${made.backupArn}, taken for the delete, was deleted`)
    } catch (err) {
      left.push(
        `The on-demand backup ${made.backupArn}, taken for the delete, could not be deleted (${errorMessage(err)}): delete it yourself (aws dynamodb delete-backup --backup-arn ${made.backupArn}), or a later restore would take it for the data of a table this action deleted.`
      )
    }
  }
  if (cause instanceof DeleteTableFailed) {
    // Its state named the copies as where the data is safe, as if the table might be gone.
    const joined = taken.join('; ')
    const what = joined !== '' ? ` ${joined.charAt(0).toUpperCase()}${joined.slice(1)}.` : ''
    const protection =
      made.protectionOn && now.DeletionProtectionEnabled !== true
        ? ' Deletion protection was turned off for the delete and is still off.'
        : ''
    const copies = [backupKept ? `on-demand backup ${made.backupArn}` : null, ...made.dataKeptIn]
      .filter(Boolean)
      .join(' and ')
    const kept = copies !== '' ? ` Its data is safe in ${copies}.` : ''
    const state = `The table ${table} still exists and keeps its data: it was not deleted.${protection}${kept}${what} Do not delete it by hand (a restore would find no record of the delete and load nothing): fix the cause and run again.`
    return new OperationError(errorMessage(cause), [state, ...left].join(' '), { cause })
  }
  // A failure before DeleteTable already says the table is untouched.
  if (left.length === 0) return cause
  const state = cause instanceof OperationError ? cause.state : `The table ${table} still exists.`
  return new OperationError(errorMessage(cause), `${state} ${left.join(' ')}`, { cause })
}

/** Dry-run: lists the calls the delete would make (as planned steps); calls nothing. */
export function listDeleteCalls(ctx: OpContext, protectionOn: boolean): void {
  if (protectionOn) {
    ctx.steps.planned(
      ctx.table,
      'deletion protection off',
      callText('UpdateTable', { TableName: ctx.table, DeletionProtectionEnabled: false })
    )
  }
  ctx.steps.planned(ctx.table, 'delete', callText('DeleteTable', { TableName: ctx.table }))
}

/** Dry-run: lists the CreateBackup call the backup would make; calls nothing. */
export function listBackupCall(ctx: OpContext, backupName: string): void {
  ctx.steps.planned(
    ctx.table,
    'on-demand backup',
    callText('CreateBackup', { TableName: ctx.table, BackupName: backupName })
  )
}

/**
 * Dry-run of deleteForRestore: the calls in its order (the on-demand backup, the record of the
 * delete in the set's S3 folder, protection off and DeleteTable); calls nothing.
 */
export function listDeleteForRestoreCalls(
  ctx: OpContext,
  opts: { backupName: string | null; s3: { bucket: string; folder: string } | null; protectionOn: boolean }
): void {
  if (opts.backupName !== null) listBackupCall(ctx, opts.backupName)
  if (opts.s3 !== null)
    ctx.steps.planned(
      ctx.table,
      'delete recorded',
      callText('PutObject', { Bucket: opts.s3.bucket, Key: `${opts.s3.folder}${DELETING_MARKER}` })
    )
  listDeleteCalls(ctx, opts.protectionOn)
}
