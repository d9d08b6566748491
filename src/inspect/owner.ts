/**
 * Who owns an existing table, from CloudFormation's own records (see resolveOwner). Read-only.
 */
import type { Stack, StackResourceSummary } from '@aws-sdk/client-cloudformation'
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import type { Sender } from '../aws/clients.js'
import { describeStackOrNull, findOwningStack, listAllStackResources } from '../aws/cloudformation-read.js'
import { errorMessage, OperationError } from '../errors.js'
import type { Owner, TableSpec } from '../types.js'

export const READ_ONLY_STATE = 'Nothing was changed: inspect only reads.'

/** Both table types: a table keeps its name when a template moves from Table to GlobalTable. */
const TABLE_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'])

/**
 * Resource statuses under which a stack lists a resource it does not manage (any more):
 * deleted, retained on delete (DELETE_SKIPPED), never created, or an import that was undone.
 */
const UNMANAGED_RESOURCE_STATUSES = new Set([
  'DELETE_COMPLETE',
  'DELETE_SKIPPED',
  'CREATE_FAILED',
  'IMPORT_FAILED',
  'IMPORT_ROLLBACK_COMPLETE'
])

function managesTable(r: StackResourceSummary, tableName: string): boolean {
  return (
    TABLE_TYPES.has(r.ResourceType ?? '') &&
    r.PhysicalResourceId === tableName &&
    !UNMANAGED_RESOURCE_STATUSES.has(r.ResourceStatus ?? '')
  )
}

/**
 * Memoised CloudFormation reads for one inspection: every stack is described, and its resources
 * listed, at most once however many tables ask.
 */
export class StackReader {
  private readonly stacks = new Map<string, Promise<Stack | null>>()
  private readonly resources = new Map<string, Promise<StackResourceSummary[]>>()

  constructor(readonly cfn: Sender<CloudFormationClient>) {}

  stack(nameOrArn: string): Promise<Stack | null> {
    let p = this.stacks.get(nameOrArn)
    if (!p) {
      p = describeStackOrNull(this.cfn, nameOrArn)
      this.stacks.set(nameOrArn, p)
    }
    return p
  }

  resourcesOf(stackIdOrName: string): Promise<StackResourceSummary[]> {
    let p = this.resources.get(stackIdOrName)
    if (!p) {
      p = listAllStackResources(this.cfn, stackIdOrName)
      this.resources.set(stackIdOrName, p)
    }
    return p
  }

  /**
   * Whether the live stack `stackName` (descending through the nested stacks named by their
   * logical ids in `nestedPath`) has a managed table resource with this physical name.
   */
  async ownsTable(stackName: string, nestedPath: readonly string[], tableName: string): Promise<boolean> {
    const stack = await this.stack(stackName)
    if (!stack?.StackId) return false
    let resources = await this.resourcesOf(stack.StackId)
    for (const logicalId of nestedPath) {
      const nested = resources.find(
        r =>
          r.ResourceType === 'AWS::CloudFormation::Stack' &&
          r.LogicalResourceId === logicalId &&
          r.PhysicalResourceId &&
          !UNMANAGED_RESOURCE_STATUSES.has(r.ResourceStatus ?? '')
      )
      if (!nested?.PhysicalResourceId) return false
      resources = await this.resourcesOf(nested.PhysicalResourceId)
    }
    return resources.some(r => managesTable(r, tableName))
  }
}

export interface OwnerResult {
  owner: Owner
  retainedFrom?: string
}

/**
 * Who owns an existing table, decided from CloudFormation's own records; a tag only ever tells us
 * which stack to ask.
 *
 * 1. The expected stack (through its nested stacks) manages a table resource with this physical
 *    name → 'stack'.
 * 2. DescribeStackResources by physical id names a live stack: the expected one, or one whose root
 *    is the expected stack → 'stack'; any other → `other-stack:<name>`.
 * 3. The aws:cloudformation:stack-name tag names a stack: if that live stack manages the table →
 *    as in 2 (needed on moto, whose DescribeStackResources ignores the physical id); otherwise the
 *    table outlived its stack → 'retained'.
 * 4. Otherwise → 'unmanaged'.
 */
export async function resolveOwner(
  spec: TableSpec,
  tableName: string,
  allTags: Record<string, string> | null,
  reader: StackReader,
  problems: string[]
): Promise<OwnerResult> {
  const expected = spec.stack ? await reader.stack(spec.stack) : null

  const failedReads: string[] = []
  const tryRead = async <T>(what: string, call: () => Promise<T>): Promise<T | null> => {
    try {
      return await call()
    } catch (err) {
      failedReads.push(`${what} failed: ${errorMessage(err)}`)
      problems.push(`${what} failed: ${errorMessage(err)}`)
      return null
    }
  }
  // Never decide from tags (or their absence) alone: when a read that could have named a live
  // owner failed, the owner is unknown, and nothing downstream may treat the table as an orphan.
  const unknownOwner = (): never => {
    throw new OperationError(
      `The owner of ${tableName} could not be determined: ${failedReads.join('; ')}. The action needs cloudformation:DescribeStacks, ListStackResources and DescribeStackResources to tell an orphan from a table a live stack owns.`,
      READ_ONLY_STATE
    )
  }
  const ownerNamed = async (stackName: string): Promise<OwnerResult | null> => {
    if (stackName === spec.stack) return { owner: 'stack' }
    const stack = await tryRead(`DescribeStacks ${stackName}`, () => reader.stack(stackName))
    if (!stack) return null
    if (expected?.StackId && stack.RootId === expected.StackId) return { owner: 'stack' }
    return { owner: `other-stack:${stackName}` }
  }

  const expectedName = spec.stack
  if (
    expectedName &&
    (await tryRead(`ListStackResources ${expectedName}`, () =>
      reader.ownsTable(expectedName, spec.nestedPath, tableName)
    ))
  ) {
    return { owner: 'stack' }
  }

  const named = await tryRead('DescribeStackResources', () => findOwningStack(reader.cfn, tableName))
  if (named) {
    const result = await ownerNamed(named)
    if (result) return result
  }

  if (failedReads.length > 0) unknownOwner()
  if (allTags === null) {
    problems.push('tags could not be read, so a retained table cannot be told from an unmanaged one')
    return { owner: 'unmanaged' }
  }
  const tagStack = allTags['aws:cloudformation:stack-name']
  if (tagStack) {
    if (tagStack !== spec.stack && tagStack !== named) {
      const owns = await tryRead(`ListStackResources ${tagStack}`, () =>
        reader.ownsTable(tagStack, [], tableName)
      )
      if (owns) {
        const result = await ownerNamed(tagStack)
        if (result) return result
      }
    }
    return { owner: 'retained', retainedFrom: tagStack }
  }
  return { owner: 'unmanaged' }
}
