/**
 * `aws-backup-retention-days`: the old on-demand backups plan/backup-retention.ts chose are
 * deleted, one at a time, each described again right before its DeleteBackup (still there, still
 * AVAILABLE, still the same name). Nothing here fails the run: a backup that cannot be deleted
 * (DeleteBackup denied, in use by a restore, a failed call) is kept, and said in a warning and a
 * note. In a dry run nothing is called: the backups are listed as what a real run would delete.
 */
import type { RegionalClients } from '../aws/clients.js'
import { deleteBackup, describeBackup } from '../aws/backup.js'
import { awsErrorName } from '../aws/dynamodb-read.js'
import { errorMessage } from '../errors.js'
import type { Logger, RetiredBackup } from '../types.js'

export interface RetireInput {
  backups: RetiredBackup[]
  dryRun: boolean
  logger: Logger
}

export interface RetireResult {
  /** Deleted (or, in a dry run, what a real run would delete). */
  deleted: RetiredBackup[]
  /** Backups that stay although they were chosen, and why: for the report's backup notes. */
  notes: string[]
}

const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation'])

/** Deletes the chosen backups (never throws: each failure is a note and a warning). */
export async function retireBackups(regional: RegionalClients, input: RetireInput): Promise<RetireResult> {
  const { logger } = input
  const deleted: RetiredBackup[] = []
  const notes: string[] = []
  const denied: RetiredBackup[] = []
  const deniedCalls = new Set<string>()
  for (const b of input.backups) {
    if (input.dryRun) {
      logger.info(`${b.table}: a real run would delete the old backup ${b.arn} (${b.why})`)
      deleted.push(b)
      continue
    }
    const ddb = regional.forRegion(b.region).dynamodb
    let call = 'DescribeBackup'
    try {
      // The last look before the delete: the backup chosen moments ago is still the one it was.
      const now = await describeBackup(ddb, b.arn)
      if (now.status !== 'AVAILABLE' || now.name !== b.name) {
        notes.push(`${b.table}: old backup ${b.arn} kept: it is now ${now.status} named ${now.name}`)
        continue
      }
      call = 'DeleteBackup'
      await deleteBackup(ddb, b.arn)
      logger.info(`${b.table}: deleted the old backup ${b.arn} (${b.why})`)
      deleted.push(b)
    } catch (err) {
      const name = awsErrorName(err)
      if (name === 'BackupNotFoundException') {
        logger.info(`${b.table}: the old backup ${b.arn} is already gone`)
      } else if (DENIED.has(name)) {
        denied.push(b)
        deniedCalls.add(call)
      } else {
        const note = `${b.table}: old backup ${b.arn} could not be deleted (${name === 'BackupInUseException' ? 'in use, e.g. by a restore in progress' : errorMessage(err)}); kept, the next run tries again`
        notes.push(note)
        logger.warning(note)
      }
    }
  }
  if (denied.length > 0) {
    const calls = [...deniedCalls].sort()
    const note = `${calls.join(' / ')} was denied for ${denied.length} old backup(s) that aws-backup-retention-days lets go (${denied.map(b => b.arn).join(', ')}); they are kept and still billed. Grant ${calls.map(c => `dynamodb:${c}`).join(' and ')} on the stage's backups (arn:aws:dynamodb:<region>:<account>:table/<table>/backup/*), or set aws-backup-retention-days: 0 to keep every backup without this warning.`
    notes.push(note)
    logger.warning(note)
  }
  return { deleted, notes }
}
