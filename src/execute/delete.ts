import type { AwsClients } from '../aws/clients.js'
import { createOnDemandBackup } from '../aws/backup.js'
import { deleteTableAndWait, turnOffDeletionProtection, type WaitOptions } from '../aws/dynamodb-write.js'
import { errorMessage, OperationError } from '../errors.js'
import type { Finding, Policy } from '../types.js'
import { backupName } from './backup-delete.js'
import { assertMayTouch, assertSafeToDelete, SafetyRefusal } from './safety.js'
import { callText, type StepLog } from './steps.js'

export interface GuardedDeleteInput {
  finding: Finding
  policy: Policy
  awsBackup: boolean
  dryRun: boolean
  steps: StepLog
  wait: WaitOptions
  now: () => number
}

/**
 * Deletes an orphan the plan decided to delete: never on a protected stage, never a table owned
 * by a live stack, never a table with data unless strategy delete with allow-data-loss (all
 * re-checked against AWS right before the call). With aws-backup an on-demand backup is taken
 * first. Deletion protection is turned off only when allow-data-loss says the table may go.
 */
export async function guardedDelete(
  clients: AwsClients,
  input: GuardedDeleteInput
): Promise<{ backupArn: string | null }> {
  const { finding, steps, policy } = input
  const table = finding.tableName
  const protectionOn = finding.live?.deletionProtection === true
  const mayTurnOffProtection = policy.strategy === 'delete' && policy.allowDataLoss

  if (protectionOn && !mayTurnOffProtection) {
    throw new SafetyRefusal(
      `Refusing to delete ${table}: deletion protection is on. Only strategy delete with allow-data-loss: true turns it off; otherwise use strategy import or backup-restore.`
    )
  }

  if (input.dryRun) {
    if (input.awsBackup) {
      steps.planned(
        table,
        'on-demand backup',
        callText('CreateBackup', { TableName: table, BackupName: backupName(table, input.now()) })
      )
    }
    if (protectionOn) {
      steps.planned(
        table,
        'deletion protection off',
        callText('UpdateTable', { TableName: table, DeletionProtectionEnabled: false })
      )
    }
    steps.planned(table, 'delete', callText('DeleteTable', { TableName: table }))
    return { backupArn: null }
  }

  // Before the first call that changes anything (a backup included): not protected, not owned.
  await assertMayTouch(clients, { tableName: table, expectedStack: finding.spec.stack, policy: input.policy })

  let backupArn: string | null = null
  if (input.awsBackup) {
    let backup
    try {
      backup = await createOnDemandBackup(clients.dynamodb, {
        table,
        backupName: backupName(table, input.now()),
        sleep: input.wait.sleep,
        clock: input.now
      })
    } catch (err) {
      throw new OperationError(
        errorMessage(err),
        `${err instanceof OperationError ? `${err.state}; t` : 'T'}he table ${table} is untouched (nothing was deleted). Fix the cause and run again.`,
        { cause: err }
      )
    }
    backupArn = backup.arn
    steps.done(table, 'on-demand backup', `${backup.arn} is AVAILABLE`)
  }

  await assertSafeToDelete(clients, {
    tableName: table,
    expectedStack: finding.spec.stack,
    policy,
    backupVerified: false
  })

  try {
    if (protectionOn) {
      await turnOffDeletionProtection(clients.dynamodb, table, input.wait)
      steps.done(table, 'deletion protection off', 'turned off because allow-data-loss is true')
    }
    await deleteTableAndWait(clients.dynamodb, table, input.wait)
  } catch (err) {
    throw new OperationError(
      `Deleting ${table} failed: ${errorMessage(err)}`,
      `The table ${table} may still exist${protectionOn ? ' (deletion protection may now be off)' : ''}${backupArn ? `; the on-demand backup ${backupArn} is AVAILABLE` : ''}. Check it and run again.`,
      { cause: err }
    )
  }
  steps.done(table, 'delete', 'deleted; the deploy creates it anew from the template')
  return { backupArn }
}
