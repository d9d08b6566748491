import { backupTimestamp, onDemandBackupName } from '../data/backup-set.js'
import type { AwsClients } from '../aws/clients.js'
import type { Finding, Policy, WaitOptions } from '../types.js'
import { assertMayTouch, assertSafeToDelete, guardOf, SafetyRefusal, type OwedLookup } from './safety.js'
import type { StepLog } from './steps.js'
import {
  deleteTable,
  listDeleteCalls,
  listBackupCall,
  takeOnDemandBackup,
  type BackupRecord,
  type OpContext
} from './table-ops.js'

export interface GuardedDeleteInput {
  finding: Finding
  policy: Policy
  awsBackup: boolean
  dryRun: boolean
  steps: StepLog
  wait: WaitOptions
  record: BackupRecord
  /** Where the last check asks whether the table is owed a restore (execute/safety.ts). */
  owedGuard: OwedLookup
}

/**
 * Deletes an orphan the plan decided to delete: never on a protected stage, never a table owned
 * by a live stack, never a table with data unless strategy delete with allow-data-loss (all
 * re-checked against AWS right before the call). With aws-backup an on-demand backup is taken
 * first. Deletion protection is turned off only when allow-data-loss says the table may go
 * (the plan already blocks the other cases; this is the executor's own check).
 */
export async function guardedDelete(clients: AwsClients, input: GuardedDeleteInput): Promise<void> {
  const { finding, steps, policy } = input
  const table = finding.tableName
  const ctx: OpContext = { table, steps, wait: input.wait }
  const protectionOn = finding.live?.deletionProtection === true
  // The safety net of a delete: named so that later runs know it is never to be restored.
  const at = input.wait.now()
  const backupName = onDemandBackupName(policy.stage, 'delete', at)
  const own = backupTimestamp(at)

  if (protectionOn && !(policy.strategy === 'delete' && policy.allowDataLoss)) {
    throw new SafetyRefusal(
      `Refusing to delete ${table}: deletion protection is on. Only strategy delete with allow-data-loss: true turns it off; otherwise use strategy import or backup-restore.`
    )
  }

  if (input.dryRun) {
    if (input.awsBackup) listBackupCall(ctx, backupName)
    listDeleteCalls(ctx, protectionOn)
    return
  }

  // Before the first call that changes anything (a backup included): not protected, not owned.
  if (!(await assertMayTouch(clients, guardOf(finding, policy, { ...input.owedGuard, own })))) {
    steps.skipped(table, 'delete', 'the table is already gone')
    return
  }
  const arn = input.awsBackup ? await takeOnDemandBackup(clients, ctx, input.record, backupName) : null
  await assertSafeToDelete(clients, {
    ...guardOf(finding, policy, { ...input.owedGuard, own }),
    backupVerified: false
  })
  await deleteTable(clients, ctx, {
    protectionOn,
    protectionWhy: 'turned off because allow-data-loss is true',
    dataKeptIn: arn ? `the on-demand backup ${arn}` : null
  })
}
