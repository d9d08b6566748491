import type { TableDescription } from '@aws-sdk/client-dynamodb'
import {
  currentGlobalTableOf,
  describeLegacyGlobalTableRegions,
  describeTableOrNull,
  listAllTags,
  regionOfArn,
  tableHoldsData
} from '../aws/dynamodb-read.js'
import type { AwsClients } from '../aws/clients.js'
import { errorMessage, OperationError } from '../errors.js'
import { resolveOwner, StackReader } from '../inspect/owner.js'
import { protectedReason } from '../plan/policy.js'
import type { Policy } from '../types.js'

/**
 * The last check before a table is deleted, made against AWS right then (not against the
 * plan, which may be minutes old): the run is not protected, no live stack owns the table (the
 * same ownership rule as the inspection, inspect/owner.ts, asked afresh), a table no template
 * declares is still empty (nothing says the deploy re-creates it), and — unless data loss is
 * allowed — the table is still empty or its backup was verified.
 * Throws a SafetyRefusal (nothing was changed) when any rule would be broken.
 */
export class SafetyRefusal extends OperationError {
  constructor(message: string) {
    super(message, 'nothing was deleted: the table is untouched')
    this.name = 'SafetyRefusal'
  }
}

export interface DeleteGuard {
  tableName: string
  expectedStack: string | null
  /** The nested stacks from the expected stack down to the table (the spec's nestedPath); [] by default. */
  nestedPath?: readonly string[]
  policy: Policy
  /** A template declares the table (false when only the `tables` input names it). */
  declaredByTemplate: boolean
  /** A verified backup (export matched the table, and the on-demand backup is AVAILABLE when asked for). */
  backupVerified: boolean
}

/**
 * The part of the last check that holds for any change to the table (backup, export, delete): the
 * run is not protected and no live stack owns the table, which must be known (a failed read that
 * could have named an owner refuses too). Made before the first mutating call. Returns whether the
 * table still exists.
 */
export async function assertMayTouch(
  clients: AwsClients,
  guard: Pick<DeleteGuard, 'tableName' | 'expectedStack' | 'nestedPath' | 'policy' | 'declaredByTemplate'>
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
  return true
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
  if (!guard.backupVerified && !dataMayGo && (await tableHoldsData(clients.dynamodb, tableName))) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it holds data and no verified backup exists (strategy ${policy.strategy}, allow-data-loss ${policy.allowDataLoss}).`
    )
  }
}
