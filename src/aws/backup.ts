/**
 * On-demand DynamoDB backups (CreateBackup / DescribeBackup / ListBackups / DeleteBackup), with a
 * waiter until AVAILABLE. The SDK has no backup waiter, so this polls with the injected clock.
 */
import {
  CreateBackupCommand,
  DeleteBackupCommand,
  DescribeBackupCommand,
  ListBackupsCommand,
  RestoreTableFromBackupCommand,
  type DynamoDBClient
} from '@aws-sdk/client-dynamodb'
import { OperationError, errorMessage } from '../errors.js'
import type { WaitOptions } from '../types.js'
import type { Sender } from './clients.js'

export interface OnDemandBackup {
  arn: string
  name: string
  status: string
  sizeBytes: number | null
  /** BackupCreationDateTime, ISO 8601 (null when not given). */
  createdAt?: string | null
  /** DescribeBackup's SourceTableDetails: the table instance the backup was taken of. */
  source?: { tableName: string | null; tableArn: string | null; tableCreatedAt: string | null }
}

function iso(value: Date | undefined): string | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : null
}

/** The endpoint cannot make on-demand backups (no permission, or an emulator without them). */
export class BackupUnavailableError extends OperationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'nothing was changed: no backup exists and nothing destructive was done', options)
    this.name = 'BackupUnavailableError'
  }
}

function unavailable(table: string, err: unknown): BackupUnavailableError | null {
  const name = (err as { name?: string }).name ?? ''
  if (
    // (Not UnrecognizedClientException: that is bad credentials, and the advice to turn the
    // safety net off would be wrong; it stays a plain failure.)
    name === 'UnknownOperationException' ||
    name === 'NotImplemented' ||
    /not (yet )?(implemented|supported)/i.test(errorMessage(err))
  ) {
    return new BackupUnavailableError(
      `On-demand backup of ${table} is not supported by this DynamoDB endpoint (${name || errorMessage(err)}); set aws-backup: false with s3-bucket set, to rely on the verified copy of the export in S3`,
      { cause: err }
    )
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnauthorizedOperation') {
    return new BackupUnavailableError(
      `On-demand backup of ${table} was denied (${errorMessage(err)}): grant dynamodb:CreateBackup and dynamodb:DescribeBackup on the table, or set aws-backup: false with s3-bucket set (a verified copy of the export in S3)`,
      { cause: err }
    )
  }
  return null
}

export async function describeBackup(ddb: Sender<DynamoDBClient>, arn: string): Promise<OnDemandBackup> {
  const out = await ddb.send(new DescribeBackupCommand({ BackupArn: arn }))
  const d = out.BackupDescription?.BackupDetails
  if (d?.BackupArn === undefined)
    throw new OperationError(
      `DescribeBackup ${arn} returned no backup details`,
      'the backup may exist; check it in the console'
    )
  const source = out.BackupDescription?.SourceTableDetails
  return {
    arn: d.BackupArn,
    name: d.BackupName ?? '',
    status: d.BackupStatus ?? 'UNKNOWN',
    sizeBytes: d.BackupSizeBytes ?? null,
    createdAt: iso(d.BackupCreationDateTime),
    source: {
      tableName: source?.TableName ?? null,
      tableArn: source?.TableArn ?? null,
      tableCreatedAt: iso(source?.TableCreationDateTime)
    }
  }
}

/**
 * DeleteBackup of one of the action's own on-demand backups (an old one, execute/backup-retention.ts;
 * one taken for a delete that did not happen, execute/table-ops.ts); returns the status DynamoDB
 * reports for it afterwards (`DELETED`; it is gone from ListBackups soon after).
 */
export async function deleteBackup(ddb: Sender<DynamoDBClient>, arn: string): Promise<string> {
  const out = await ddb.send(new DeleteBackupCommand({ BackupArn: arn }))
  return out.BackupDescription?.BackupDetails?.BackupStatus ?? 'DELETED'
}

export interface BackupSummary {
  arn: string
  name: string
  tableName: string
  tableArn: string | null
  /** BackupCreationDateTime, ISO 8601. */
  createdAt: string | null
  status: string
}

/**
 * Every on-demand (USER) backup of a table, all pages. ListBackups still lists a table's backups
 * after the table is deleted, which is how a later run finds what the action took.
 *
 * The pages are followed by hand because @aws-sdk/client-dynamodb has no paginator for ListBackups
 * (its paginators are ListBulkOperations, ListContributorInsights, ListExports, ListImports,
 * ListTables, Query and Scan, in 3.1169.0): each answer's `LastEvaluatedBackupArn` is the next
 * call's `ExclusiveStartBackupArn`. Use `paginateListBackups` if the SDK gains one.
 */
export async function listTableBackups(
  ddb: Sender<DynamoDBClient>,
  tableName: string
): Promise<BackupSummary[]> {
  const found: BackupSummary[] = []
  let start: string | undefined
  do {
    const out = await ddb.send(
      new ListBackupsCommand({ TableName: tableName, BackupType: 'USER', ExclusiveStartBackupArn: start })
    )
    for (const b of out.BackupSummaries ?? []) {
      if (b.BackupArn === undefined) continue
      found.push({
        arn: b.BackupArn,
        name: b.BackupName ?? '',
        tableName: b.TableName ?? tableName,
        tableArn: b.TableArn ?? null,
        createdAt: iso(b.BackupCreationDateTime),
        status: b.BackupStatus ?? 'UNKNOWN'
      })
    }
    start = out.LastEvaluatedBackupArn
  } while (start !== undefined)
  return found
}

/**
 * RestoreTableFromBackup into a new table `targetTable` (the service creates it with the backup's
 * keys, indexes and items). Returns at once; wait for the table to be ACTIVE.
 */
export async function restoreTableFromBackup(
  ddb: Sender<DynamoDBClient>,
  opts: { backupArn: string; targetTable: string }
): Promise<void> {
  await ddb.send(
    new RestoreTableFromBackupCommand({ BackupArn: opts.backupArn, TargetTableName: opts.targetTable })
  )
}

export interface CreateBackupOptions {
  table: string
  backupName: string
}

/**
 * Creates an on-demand backup and waits until it is AVAILABLE (or `wait.maxWaitMs` runs out);
 * returns its ARN and details. The wait is a loop of our own: the SDK has no waiter for a
 * backup's status, and this one runs on `wait`'s clock, so tests of a slow backup do not sleep.
 */
export async function createOnDemandBackup(
  ddb: Sender<DynamoDBClient>,
  opts: CreateBackupOptions,
  wait: WaitOptions
): Promise<OnDemandBackup> {
  const { now: clock, sleep, maxWaitMs: timeoutMs, pollMs } = wait
  // Backup names allow [a-zA-Z0-9_.-], 3-255 characters.
  const backupName = opts.backupName.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 255)
  let arn: string
  try {
    const out = await ddb.send(new CreateBackupCommand({ TableName: opts.table, BackupName: backupName }))
    if (out.BackupDetails?.BackupArn === undefined) throw new Error('CreateBackup returned no BackupArn')
    arn = out.BackupDetails.BackupArn
    if (out.BackupDetails.BackupStatus === 'AVAILABLE') {
      return {
        arn,
        name: out.BackupDetails.BackupName ?? backupName,
        status: 'AVAILABLE',
        sizeBytes: out.BackupDetails.BackupSizeBytes ?? null
      }
    }
  } catch (err) {
    throw (
      unavailable(opts.table, err) ??
      new OperationError(
        `CreateBackup of ${opts.table} failed: ${errorMessage(err)}`,
        'nothing was changed: no backup exists and nothing destructive was done',
        { cause: err }
      )
    )
  }
  const deadline = clock() + timeoutMs
  for (;;) {
    let b: OnDemandBackup | null = null
    try {
      b = await describeBackup(ddb, arn)
    } catch (err) {
      // A backup that was just created can be briefly invisible to DescribeBackup.
      if ((err as { name?: string }).name !== 'BackupNotFoundException')
        throw new OperationError(
          `DescribeBackup ${arn} failed: ${errorMessage(err)}`,
          `backup ${arn} was requested; check its status before deleting anything`,
          { cause: err }
        )
    }
    if (b?.status === 'AVAILABLE') return b
    if (b !== null && b.status === 'DELETED')
      throw new OperationError(
        `Backup ${arn} of ${opts.table} was deleted while being created`,
        'no usable backup exists; nothing destructive was done'
      )
    if (clock() >= deadline) {
      throw new OperationError(
        `Backup ${arn} of ${opts.table} is still ${b?.status ?? 'not visible'} after ${Math.round(timeoutMs / 1000)} s`,
        `the backup may still complete; nothing destructive was done. Check ${arn} and run again`
      )
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - clock())))
  }
}
