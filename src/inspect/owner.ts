/**
 * Who owns an existing table, from CloudFormation's own records (see resolveOwner). Read-only.
 * The one ownership rule: the inspection and the last check before a delete (execute/safety.ts)
 * both ask it.
 */
import type { Stack, StackResourceSummary } from '@aws-sdk/client-cloudformation'
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import type { Sender } from '../aws/clients.js'
import { describeStackOrNull, listAllStackResources, stackForPhysicalId } from '../aws/cloudformation-read.js'
import { errorMessage } from '../errors.js'
import type { Owner } from '../types.js'

export const READ_ONLY_STATE = 'Nothing was changed: inspect only reads.'

/** The tag CloudFormation puts on the tables it creates; it only ever says which stack to ask. */
export const STACK_NAME_TAG = 'aws:cloudformation:stack-name'

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
 * listed (every page), at most once however many tables ask.
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
   * Whether the live stack `stackNameOrId` (descending through the nested stacks named by their
   * logical ids in `nestedPath`) has a managed table resource with this physical name: the stack
   * is described and ListStackResources followed to its last page.
   */
  async ownsTable(stackNameOrId: string, nestedPath: readonly string[], tableName: string): Promise<boolean> {
    const stack = await this.stack(stackNameOrId)
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

/** Where the deploy expects the table: its top-level stack (null: none) and the nested stacks down to it. */
export interface ExpectedPlace {
  stack: string | null
  nestedPath: readonly string[]
}

export interface OwnerResult {
  owner: Owner
  retainedFrom?: string
  /** Set when owner is 'unknown': which reads failed, and the permissions they need. */
  unknownBecause?: string
}

/** A read that could have named an owner and failed: what was asked, and what it needs. */
interface FailedRead {
  what: string
  permission: string
  error: unknown
}

function failureText(f: FailedRead): string {
  const name = (f.error as { name?: string } | null)?.name ?? ''
  const denied = /AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${errorMessage(f.error)}`)
  return denied
    ? `${f.what} was denied (it needs ${f.permission}): ${errorMessage(f.error)}`
    : `${f.what} failed (${f.permission}): ${errorMessage(f.error)}`
}

/**
 * Who owns an existing table, decided from CloudFormation's own records alone:
 *
 * 1. The expected stack (through its nested stacks) manages a table resource with this physical
 *    name (ListStackResources, every page) → 'stack'.
 * 2. DescribeStackResources by physical id names a stack. That answer holds at most 100 of the
 *    stack's resources, so the stack is confirmed with ListStackResources (every page) before the
 *    table is called its resource: the expected stack, or one whose root is the expected stack →
 *    'stack'; any other → `other-stack:<name>`.
 * 3. The aws:cloudformation:stack-name tag names a stack: it is only asked, the same way. If it
 *    manages the table → as in 2 (needed on moto, whose DescribeStackResources ignores the
 *    physical id); otherwise the table outlived that stack → 'retained'.
 * 4. Otherwise → 'unmanaged'.
 *
 * 'unknown' (with unknownBecause) when no owner was found and a read that could have named one
 * failed: the expected stack's, DescribeStackResources, a candidate stack's, or the table's tags
 * (null `allTags`). Such a table is never treated as an orphan.
 */
export async function resolveOwner(
  expected: ExpectedPlace,
  tableName: string,
  allTags: Record<string, string> | null,
  reader: StackReader,
  problems: string[]
): Promise<OwnerResult> {
  const failed: FailedRead[] = []
  const tryRead = async <T>(what: string, permission: string, call: () => Promise<T>): Promise<T | null> => {
    try {
      return await call()
    } catch (error) {
      const f = { what, permission, error }
      failed.push(f)
      problems.push(failureText(f))
      return null
    }
  }
  const stackRead = (name: string): string =>
    `cloudformation:DescribeStacks and cloudformation:ListStackResources on stack ${name}`

  /** The owner when `candidate` (a stack name or ARN) manages the table, else null. */
  const ownerIfManaged = async (candidate: string, label: string): Promise<OwnerResult | null> => {
    const owns = await tryRead(`Reading stack ${label}`, stackRead(label), () =>
      reader.ownsTable(candidate, [], tableName)
    )
    if (!owns) return null
    const stack = await reader.stack(candidate)
    const name = stack?.StackName ?? label
    if (name === expected.stack) return { owner: 'stack' }
    const root = expected.stack
      ? await tryRead(`Reading stack ${expected.stack}`, stackRead(expected.stack), () =>
          reader.stack(expected.stack as string)
        )
      : null
    if (root?.StackId && stack?.RootId === root.StackId) return { owner: 'stack' }
    return { owner: `other-stack:${name}` }
  }

  const expectedName = expected.stack
  if (
    expectedName &&
    (await tryRead(`Reading stack ${expectedName}`, stackRead(expectedName), () =>
      reader.ownsTable(expectedName, expected.nestedPath, tableName)
    ))
  ) {
    return { owner: 'stack' }
  }

  const named = await tryRead(
    `DescribeStackResources for ${tableName}`,
    'cloudformation:DescribeStackResources',
    () => stackForPhysicalId(reader.cfn, tableName)
  )
  if (named) {
    const result = await ownerIfManaged(named.id ?? named.name, named.name)
    if (result) return result
  }

  const tagStack = allTags?.[STACK_NAME_TAG]
  if (tagStack && tagStack !== expectedName && tagStack !== named?.name) {
    const result = await ownerIfManaged(tagStack, tagStack)
    if (result) return result
  }

  if (allTags === null) {
    failed.push({
      what: `ListTagsOfResource for ${tableName}`,
      permission: 'dynamodb:ListTagsOfResource',
      error: new Error('the tags could not be read, and a tag may name the stack to ask')
    })
  }
  if (failed.length > 0) {
    return {
      owner: 'unknown',
      unknownBecause: failed.map(failureText).join('; ')
    }
  }
  return tagStack ? { owner: 'retained', retainedFrom: tagStack } : { owner: 'unmanaged' }
}
