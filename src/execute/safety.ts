import type { TableDescription } from '@aws-sdk/client-dynamodb'
import {
  currentGlobalTableOf,
  describeLegacyGlobalTableRegions,
  describeTableOrNull,
  listAllTags,
  regionOfArn,
  tableHoldsData
} from '../aws/dynamodb-read.js'
import { describeBackup } from '../aws/backup.js'
import type { S3Client } from '@aws-sdk/client-s3'
import type { AwsClients, Sender } from '../aws/clients.js'
import { headObject, s3Uri } from '../aws/s3.js'
import { errorMessage, OperationError } from '../errors.js'
import { resolveOwner, StackReader } from '../inspect/owner.js'
import { restoreStateOf, type RestoreState } from '../inspect/owed-restores.js'
import { protectedReason } from '../plan/policy.js'
import type { Finding, Policy, S3Location } from '../types.js'

/**
 * The last check before a table is deleted, made against AWS right then (not against the
 * plan, which may be minutes old): the run is not protected, no live stack owns the table (the
 * same ownership rule as the inspection, inspect/owner.ts, asked afresh), a table no template
 * declares is still empty (nothing says the deploy re-creates it), and — unless data loss is
 * allowed — the table is still empty, or its export was verified AND a copy of it outside the
 * runner exists right now (the S3 copy's manifest, or the on-demand backup AVAILABLE).
 * Throws a SafetyRefusal (nothing was changed) when any rule would be broken.
 */
export class SafetyRefusal extends OperationError {
  constructor(message: string) {
    super(message, 'nothing was deleted: the table is untouched')
    this.name = 'SafetyRefusal'
  }
}

/**
 * What the owed-restore lookup needs to ask AWS again, before a delete, whether the table is owed a
 * restore it was never given (inspect/owed-restores.ts). Null only where the table to delete is the
 * owed restore's own (the partial table a failed server-side import made).
 */
export interface OwedGuard {
  stage: string
  /** The credentials' account (null: unknown). */
  account: string | null
  s3Bucket: S3Location | null
  /** The S3 client of the bucket's region. */
  s3: Sender<S3Client>
  /** The table's region. */
  region: string
  /** The timestamp (backupTimestamp) of what this run takes of the table: its own, never owed. */
  own: string
}

/** The part of an OwedGuard that is the same for every table of a run. */
export type OwedLookup = Omit<OwedGuard, 'region' | 'own'>

export interface DeleteGuard {
  tableName: string
  /** Where to ask whether the table is owed a restore (always, but for the owed restore's own table). */
  owed: OwedGuard | null
  expectedStack: string | null
  /** The nested stacks from the expected stack down to the table (the spec's nestedPath); [] by default. */
  nestedPath?: readonly string[]
  policy: Policy
  /** A template declares the table (false when only the `tables` input names it). */
  declaredByTemplate: boolean
  /** A verified backup (export matched the table, and the on-demand backup is AVAILABLE when asked for). */
  backupVerified: boolean
  /**
   * The copies outside the runner that were made and verified for this table; each is looked up
   * again here. A table with data is deleted only when at least one is confirmed.
   */
  durableCopy?: DurableCopy
  /** The S3 client of the copy's bucket (default: clients.s3). */
  s3Client?: Sender<S3Client>
}

export interface DurableCopy {
  /** The S3 copy, verified against its manifest: the manifest's object and its size. */
  s3: { bucket: string; manifestKey: string; manifestBytes: number } | null
  /** The on-demand backup taken of this table. */
  backupArn: string | null
}

/** The copies of `table` that exist right now (by description), and why the others do not count. */
async function confirmDurableCopy(
  clients: AwsClients,
  guard: DeleteGuard
): Promise<{ confirmed: string[]; problems: string[] }> {
  const { tableName, durableCopy: copy } = guard
  const confirmed: string[] = []
  const problems: string[] = []
  if (copy?.s3) {
    const { bucket, manifestKey, manifestBytes } = copy.s3
    const uri = s3Uri(bucket, manifestKey)
    try {
      const head = await headObject(guard.s3Client ?? clients.s3, bucket, manifestKey)
      if (head === null) problems.push(`${uri} does not exist`)
      else if (head.bytes !== manifestBytes)
        problems.push(`${uri} holds ${head.bytes} bytes, not ${manifestBytes}`)
      else confirmed.push(`S3 copy ${uri}`)
    } catch (err) {
      problems.push(`${uri} cannot be read: ${errorMessage(err)}`)
    }
  }
  if (copy?.backupArn) {
    try {
      const backup = await describeBackup(clients.dynamodb, copy.backupArn)
      if (!backup.arn.includes(`:table/${tableName}/backup/`))
        problems.push(`backup ${backup.arn} is not a backup of ${tableName}`)
      else if (backup.status !== 'AVAILABLE') problems.push(`backup ${backup.arn} is ${backup.status}`)
      else confirmed.push(`on-demand backup ${backup.arn}`)
    } catch (err) {
      problems.push(`backup ${copy.backupArn} cannot be described: ${errorMessage(err)}`)
    }
  }
  return { confirmed, problems }
}

/** The guard of a planned table, from its finding: everything but whether its backup was verified. */
export function guardOf(
  finding: Finding,
  policy: Policy,
  owed: (OwedLookup & { own: string }) | null
): Omit<DeleteGuard, 'backupVerified'> {
  return {
    tableName: finding.tableName,
    owed: owed && { ...owed, region: finding.region },
    expectedStack: finding.spec.stack,
    declaredByTemplate: finding.spec.properties !== null,
    nestedPath: finding.spec.nestedPath,
    policy
  }
}

/**
 * The part of the last check that holds for any change to the table (backup, export, delete): the
 * run is not protected and no live stack owns the table, which must be known (a failed read that
 * could have named an owner refuses too). Made before the first mutating call. Returns whether the
 * table still exists.
 */
export async function assertMayTouch(
  clients: AwsClients,
  guard: Pick<
    DeleteGuard,
    'tableName' | 'owed' | 'expectedStack' | 'nestedPath' | 'policy' | 'declaredByTemplate'
  >
): Promise<boolean> {
  const { tableName, policy } = guard
  if (policy.protectedStage) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: ${protectedReason(policy)}; the action never deletes a table there.`
    )
  }
  const table = await describeTableOrNull(clients.dynamodb, tableName)
  if (table === null) return false
  await assertNotReplicated(clients, table)
  const tags = table.TableArn ? await listAllTags(clients.dynamodb, table.TableArn).catch(() => null) : null
  const { owner, unknownBecause } = await resolveOwner(
    { stack: guard.expectedStack, nestedPath: guard.nestedPath ?? [] },
    tableName,
    tags,
    new StackReader(clients.cloudformation),
    []
  )
  if (owner === 'stack') {
    throw new SafetyRefusal(`Refusing to delete ${tableName}: stack ${guard.expectedStack ?? ''} owns it.`)
  }
  if (owner?.startsWith('other-stack:')) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: live stack ${owner.slice('other-stack:'.length)} owns it.`
    )
  }
  if (owner === 'unknown') {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: its owner could not be determined (${unknownBecause ?? 'a read failed'}).`
    )
  }
  // The plan blocks this too; checked again here because only a template says the deploy re-creates it.
  if (!guard.declaredByTemplate && (await tableHoldsData(clients.dynamodb, tableName))) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it holds data and no template declares it (only the tables input names it), so nothing says the deploy re-creates it.`
    )
  }
  if (guard.owed) await assertNotOwed(clients, tableName, guard.owed)
  return true
}

/**
 * A table owed a restore it was never given is never deleted, nor backed up (a newer set would
 * hide the owed one): plan.ts owedRestoreBlocker, asked of AWS again right now. A lookup that
 * cannot tell refuses too.
 */
async function assertNotOwed(clients: AwsClients, tableName: string, owed: OwedGuard): Promise<void> {
  let s: RestoreState
  try {
    ;({ state: s } = await restoreStateOf(
      { dynamodb: clients.dynamodb, s3: owed.s3 },
      {
        stage: owed.stage,
        account: owed.account,
        s3Bucket: owed.s3Bucket,
        table: { name: tableName, region: owed.region },
        own: owed.own
      }
    ))
  } catch (err) {
    s = { kind: 'problem', why: errorMessage(err) }
  }
  if (s.kind === 'owed')
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it is owed the restore of ${s.backup} (taken ${s.set.takenAt}), which was never loaded into it. Run phase: restore into it first (or, if that data is not wanted, delete that backup), then run again.`
    )
  if (s.kind === 'problem')
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: whether it is owed a restore could not be determined (${s.why}).`
    )
}

/**
 * A table that replicates to another region is never deleted or re-created: a delete drops one
 * replica while the others live on. Asked of AWS right then: DescribeTable's replicas (version
 * 2019.11.21), and DescribeGlobalTable for a table whose stream could belong to a legacy one.
 */
async function assertNotReplicated(clients: AwsClients, table: TableDescription): Promise<void> {
  const name = table.TableName ?? ''
  const own = regionOfArn(table.TableArn) ?? ''
  let regions = currentGlobalTableOf(table, own)?.regions ?? [own]
  const stream = table.StreamSpecification
  if (regions.length <= 1 && stream?.StreamEnabled && stream.StreamViewType === 'NEW_AND_OLD_IMAGES') {
    let legacy
    try {
      legacy = await describeLegacyGlobalTableRegions(clients.dynamodb, name)
    } catch (err) {
      throw new SafetyRefusal(
        `Refusing to delete ${name}: whether it is a replica of a global table could not be read (DescribeGlobalTable: ${errorMessage(err)}).`
      )
    }
    regions = [...new Set([own, ...(legacy ?? [])])]
  }
  const others = regions.filter(r => r !== own)
  if (others.length > 0) {
    throw new SafetyRefusal(
      `Refusing to delete ${name}: it is a replica of a global table that also has replicas in ${others.sort().join(', ')}; the action never deletes a replicated table.`
    )
  }
}

export async function assertSafeToDelete(clients: AwsClients, guard: DeleteGuard): Promise<void> {
  const { tableName, policy } = guard
  if (!(await assertMayTouch(clients, guard))) return
  const dataMayGo = policy.strategy === 'delete' && policy.allowDataLoss
  if (dataMayGo || !(await tableHoldsData(clients.dynamodb, tableName))) return
  if (!guard.backupVerified) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it holds data and no verified backup exists (strategy ${policy.strategy}, allow-data-loss ${policy.allowDataLoss}).`
    )
  }
  // The export on the runner's disk dies with the runner: a copy outside it must exist now.
  const { confirmed, problems } = await confirmDurableCopy(clients, guard)
  if (confirmed.length === 0) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it holds data and no copy outside the runner is verified${problems.length > 0 ? ` (${problems.join('; ')})` : ''}. Set s3-bucket (a verified copy in S3) or aws-backup: true (an on-demand backup), then run again.`
    )
  }
}
