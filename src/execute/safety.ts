import { findOwningStack, describeStackOrNull, listAllStackResources } from '../aws/cloudformation-read.js'
import { describeTableOrNull, tableHoldsData } from '../aws/dynamodb-read.js'
import type { AwsClients } from '../aws/clients.js'
import { OperationError } from '../errors.js'
import type { Policy } from '../types.js'

/**
 * The last check before a table is deleted, made against AWS right then (not against the
 * plan, which may be minutes old): the stage is not protected, no live stack owns the table,
 * and — unless data loss is allowed — the table is still empty or its backup was verified.
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
  /** A verified backup (export matched the table, and the on-demand backup is AVAILABLE when asked for). */
  backupVerified: boolean
}

export async function assertSafeToDelete(clients: AwsClients, guard: DeleteGuard): Promise<void> {
  const { tableName, policy } = guard
  if (policy.protectedStage) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: stage ${policy.stage} is protected (protected-stages); the action never deletes a table there.`
    )
  }
  const table = await describeTableOrNull(clients.dynamodb, tableName)
  if (table === null) return
  const owner = await findOwningStack(clients.cloudformation, tableName)
  if (owner !== null) {
    throw new SafetyRefusal(`Refusing to delete ${tableName}: live stack ${owner} owns it.`)
  }
  if (guard.expectedStack !== null) {
    // DescribeStackResources by physical id is not always reliable (emulators); check the stack too.
    const stack = await describeStackOrNull(clients.cloudformation, guard.expectedStack)
    if (stack) {
      const resources = await listAllStackResources(
        clients.cloudformation,
        stack.StackId ?? guard.expectedStack
      )
      if (
        resources.some(
          r => r.PhysicalResourceId === tableName && r.ResourceType?.startsWith('AWS::DynamoDB::')
        )
      ) {
        throw new SafetyRefusal(`Refusing to delete ${tableName}: stack ${guard.expectedStack} owns it.`)
      }
    }
  }
  const dataMayGo = policy.strategy === 'delete' && policy.allowDataLoss
  if (!guard.backupVerified && !dataMayGo && (await tableHoldsData(clients.dynamodb, tableName))) {
    throw new SafetyRefusal(
      `Refusing to delete ${tableName}: it holds data and no verified backup exists (strategy ${policy.strategy}, allow-data-loss ${policy.allowDataLoss}).`
    )
  }
}
