import type { StackState } from '../types.js'

/**
 * What a CloudFormation stack's status means for this action, in one place: the plan and the
 * import executor must agree on which stacks can take an import.
 */

/** A stack operation is running: CloudFormation accepts no other change until it ends. */
export function isBusy(status: string | undefined): boolean {
  return status !== undefined && status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS'
}

/** Stack states that nothing can be imported into, with what the user has to do. */
export const STUCK: Readonly<Record<string, string>> = {
  ROLLBACK_COMPLETE:
    'its first create failed and was rolled back; CloudFormation can neither update it nor import into it, so it must be deleted before deploying (cdk deploy deletes such a stack by itself; the tables it retained stay)',
  ROLLBACK_FAILED: 'its first create failed and the rollback failed too; delete the stack before deploying',
  UPDATE_ROLLBACK_FAILED:
    'an update rollback failed; continue the rollback (aws cloudformation continue-update-rollback) before deploying',
  IMPORT_ROLLBACK_FAILED:
    'an import rollback failed; fix the cause shown in the stack events and finish the rollback before deploying',
  DELETE_FAILED:
    'a delete failed; delete the stack again (retaining the resources that blocked it) before deploying'
}

/** Stack statuses CloudFormation accepts an IMPORT change set for (REVIEW_IN_PROGRESS is treated as a new stack). */
const IMPORTABLE_STACK_STATUSES = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE'
])

/**
 * A stack in REVIEW_IN_PROGRESS exists but has no template or resources; CloudFormation treats it as a stack that
 * does not exist yet (as cdk does since aws-cdk#7731), so it gets a new-stack template.
 */
export function isNewStack(stack: StackState): boolean {
  return !stack.exists || stack.status === 'REVIEW_IN_PROGRESS'
}

/** Why the stack cannot take an import now; null when it can. */
export function stackRefusal(stack: StackState, stackName: string): string | null {
  if (isNewStack(stack)) return null
  const status = stack.status
  if (!status) return `the state of stack ${stackName} is unknown; re-run when DescribeStacks can read it`
  if (status === 'ROLLBACK_COMPLETE') {
    return `stack ${stackName} is ROLLBACK_COMPLETE: CloudFormation can neither update it nor import into it. Delete it (aws cloudformation delete-stack --stack-name ${stackName}) and re-run`
  }
  if (status.endsWith('_IN_PROGRESS'))
    return `stack ${stackName} is ${status}: another operation is running on it; re-run when it has finished`
  if (!IMPORTABLE_STACK_STATUSES.has(status)) {
    return `stack ${stackName} is ${status}, a state CloudFormation cannot import into${stack.statusReason ? ` (${stack.statusReason})` : ''}; repair or delete the stack and re-run`
  }
  return null
}
