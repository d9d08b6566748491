import { findOwningStack, describeStackOrNull, listAllStackResources } from '../aws/cloudformation-read.js'
import { describeTableOrNull, listAllTags, tableHoldsData } from '../aws/dynamodb-read.js'
import type { AwsClients } from '../aws/clients.js'
import { OperationError } from '../errors.js'
import type { Policy } from '../types.js'

/**
 * The last check before a table is deleted, made against AWS right then (not against the
 * plan, which may be minutes old): the stage is not protected, no live stack owns the table, a
 * table no template declares is still empty (nothing says the deploy re-creates it), and — unless
 * data loss is allowed — the table is still empty or its backup was verified.
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
  policy: Policy
  /** A template declares the table (false when only the `tables` input names it). */
  declaredByTemplate: boolean
  /** A verified backup (export matched the table, and the on-demand backup is AVAILABLE when asked for). */
  backupVerified: boolean
}

/**
 * The part of the last check that holds for any change to the table (backup, export, delete): the
 * stage is not protected and no live stack owns the table. Made before the first mutating call.
 * Returns whether the table still exists.
 */
export async function assertMayTouch(
  clients: AwsClients,
  guard: Pick<DeleteGuard, 'tableName' | 'expectedStack' | 'policy' | 'declaredByTemplate'>
): Promise<boolean> {
  const { tableName, policy } = guard
  if (policy.protectedStage) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: stage ${policy.stage} is protected (protected-stages); the action never deletes a table there.`
    )
  }
  const table = await describeTableOrNull(clients.dynamodb, tableName)
  if (table === null) return false
  const owner = await findOwningStack(clients.cloudformation, tableName)
  if (owner !== null) {
    throw new SafetyRefusal(`Refusing to delete ${tableName}: live stack ${owner} owns it.`)
  }
  // DescribeStackResources by physical id is not always reliable (moto ignores the id): ask the
  // expected stack, and the stack the table's aws:cloudformation:stack-name tag names, directly.
  const tagged = table.TableArn
    ? (await listAllTags(clients.dynamodb, table.TableArn))['aws:cloudformation:stack-name']
    : undefined
  const candidates = [...new Set([guard.expectedStack, tagged].filter((s): s is string => !!s))]
  for (const name of candidates) {
    const stack = await describeStackOrNull(clients.cloudformation, name)
    if (!stack) continue
    const resources = await listAllStackResources(clients.cloudformation, stack.StackId ?? name)
    if (
      resources.some(r => r.PhysicalResourceId === tableName && r.ResourceType?.startsWith('AWS::DynamoDB::'))
    ) {
      throw new SafetyRefusal(`Refusing to delete ${tableName}: stack ${name} owns it.`)
    }
  }
  // The plan blocks this too; checked again here because only a template says the deploy re-creates it.
  if (!guard.declaredByTemplate && (await tableHoldsData(clients.dynamodb, tableName))) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it holds data and no template declares it (only the tables input names it), so nothing says the deploy re-creates it.`
    )
  }
  return true
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
