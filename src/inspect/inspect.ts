import type { Stack, StackResourceSummary } from '@aws-sdk/client-cloudformation'
import { describeStackOrNull, findOwningStack, listAllStackResources } from '../aws/cloudformation-read.js'
import { describeTableOrNull, tableHoldsData } from '../aws/dynamodb-read.js'
import { errorMessage, OperationError } from '../errors.js'
import type {
  Discovery,
  Finding,
  Inspection,
  LiveTable,
  Logger,
  Owner,
  StackState,
  TableSpec
} from '../types.js'
import { readLiveTableFrom } from './live-config.js'
import { mapWithConcurrency } from './pool.js'
import type { Sender } from '../aws/clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation'

/** The clients inspect needs; an `AwsClients` fits. */
export interface InspectClients {
  dynamodb: Sender<DynamoDBClient>
  cloudformation: Sender<CloudFormationClient>
}

export interface InspectOptions {
  region: string
  /** Tables inspected at the same time (each makes a handful of calls). Default 8. */
  concurrency?: number
  logger: Logger
}

export const DEFAULT_INSPECT_CONCURRENCY = 8

const READ_ONLY_STATE = 'Nothing was changed: inspect only reads.'

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

function stackStateOf(name: string, stack: Stack | null): StackState {
  if (!stack) return { name, exists: false }
  return {
    name,
    exists: true,
    ...(stack.StackId ? { stackId: stack.StackId } : {}),
    ...(stack.StackStatus ? { status: stack.StackStatus } : {}),
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {})
  }
}

/**
 * Memoised CloudFormation reads for one inspection: every stack is described, and its resources
 * listed, at most once however many tables ask.
 */
class StackReader {
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

interface OwnerResult {
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
async function resolveOwner(
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

async function inspectTable(
  spec: TableSpec,
  tableName: string,
  clients: InspectClients,
  reader: StackReader,
  stackStates: ReadonlyMap<string, StackState>
): Promise<Finding> {
  const stack = spec.stack ? (stackStates.get(spec.stack) ?? null) : null
  let desc
  try {
    desc = await describeTableOrNull(clients.dynamodb, tableName)
  } catch (err) {
    throw new OperationError(`DescribeTable ${tableName} failed: ${errorMessage(err)}`, READ_ONLY_STATE, {
      cause: err
    })
  }
  if (!desc) {
    return {
      spec,
      tableName,
      exists: false,
      live: null,
      owner: null,
      hasData: null,
      stack,
      differences: [],
      problems: []
    }
  }

  const problems: string[] = []
  const liveP = readLiveTableFrom(clients.dynamodb, desc)
  const hasDataP = tableHoldsData(clients.dynamodb, tableName).catch((err: unknown) => {
    problems.push(`Scan failed: ${errorMessage(err)}`)
    return null
  })
  const ownerP = liveP.then(({ table }: { table: LiveTable }) =>
    resolveOwner(spec, tableName, table.unreadable?.includes('tags') ? null : table.allTags, reader, problems)
  )
  const [{ table: live, problems: liveProblems }, hasData, owner] = await Promise.all([
    liveP,
    hasDataP,
    ownerP
  ])

  return {
    spec,
    tableName,
    exists: true,
    live,
    owner: owner.owner,
    ...(owner.retainedFrom ? { retainedFrom: owner.retainedFrom } : {}),
    hasData,
    stack,
    differences: [],
    problems: [...liveProblems, ...problems]
  }
}

/**
 * Read-only look at every discovered table that has a name: does it exist, who owns it, does it
 * hold data, how is it configured; and at every expected stack. Specs without a resolved name are
 * skipped (discover reports them). `differences` stays empty: compare fills it in.
 *
 * Throws OperationError when a table's existence or an expected stack cannot be read (nothing
 * downstream would be sound); any other failed read becomes a problem on its finding.
 */
export async function inspect(
  clients: InspectClients,
  discovery: Discovery,
  opts: InspectOptions
): Promise<Inspection> {
  const { logger } = opts
  const concurrency = opts.concurrency ?? DEFAULT_INSPECT_CONCURRENCY
  const reader = new StackReader(clients.cloudformation)
  const named = discovery.tables.filter((t): t is TableSpec & { tableName: string } => t.tableName !== null)

  const stackNames = [...new Set(named.flatMap(t => (t.stack ? [t.stack] : [])))]
  const stacks = await mapWithConcurrency(stackNames, concurrency, async name => {
    try {
      const stack = await reader.stack(name)
      // Listed here, once, so every table of the stack can be matched against it.
      if (stack?.StackId) await reader.resourcesOf(stack.StackId)
      return stackStateOf(name, stack)
    } catch (err) {
      throw new OperationError(
        `Reading stack ${name} (DescribeStacks/ListStackResources) failed: ${errorMessage(err)}`,
        READ_ONLY_STATE,
        { cause: err }
      )
    }
  })
  const stackStates = new Map(stacks.map(s => [s.name, s]))

  const findings = await mapWithConcurrency(named, concurrency, async spec => {
    const finding = await inspectTable(spec, spec.tableName, clients, reader, stackStates)
    logger.debug(
      `${spec.tableName}: ${finding.exists ? `exists, owner ${finding.owner}, hasData ${finding.hasData}` : 'does not exist'}` +
        (finding.problems.length > 0 ? `; problems: ${finding.problems.join('; ')}` : '')
    )
    return finding
  })

  const existing = findings.filter(f => f.exists).length
  logger.info(
    `Inspected ${findings.length} table(s) (${existing} exist) and ${stacks.length} stack(s) in ${opts.region}`
  )
  return { findings, stacks, region: opts.region }
}
