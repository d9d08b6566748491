import type { AwsClients } from '../aws/clients.js'
import { createOnDemandBackup } from '../aws/backup.js'
import { describeTableOrNull } from '../aws/dynamodb-read.js'
import { deleteTableAndWait, turnOffDeletionProtection } from '../aws/dynamodb-write.js'
import { errorMessage, OperationError } from '../errors.js'
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
    throw new OperationError(
      `Deleting ${table} failed: ${errorMessage(err)}`,
      `The table ${table} ${exists}.${protection}${kept} Check it and run again.`,
      {
        cause: err
      }
    )
  }
  steps.done(table, 'delete', opts.then ?? 'deleted; the deploy creates it anew from the template')
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
