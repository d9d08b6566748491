/**
 * CloudFormation calls of a resource IMPORT: read the deployed template, create/wait/execute the IMPORT change set,
 * wait for the import, confirm ownership.
 *
 * Waiting uses a poll loop of our own rather than @aws-sdk's waitUntilChangeSetCreateComplete /
 * waitUntilStackImportComplete: those sleep with their own setTimeout and read Date.now() (no injectable sleep or
 * clock, so tests would really wait), start at a 30 s minimum delay (an import change set is usually ready in a few
 * seconds), end at IMPORT_ROLLBACK_IN_PROGRESS (before the rollback has finished) and fail with a JSON dump of the
 * last response. The loop below polls the same calls with an explicit time limit and reports CloudFormation's reason.
 */
import {
  CloudFormationClient,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  CreateChangeSetCommand,
  paginateDescribeStackEvents,
  type Capability,
  type CreateChangeSetCommandInput,
  type Parameter,
  type ResourceToImport,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import type { WaitOptions } from '../types.js'
import { asClient, type Sender } from './clients.js'
import { listAllStackResources } from './cloudformation-read.js'

/**
 * CloudFormation's limits on a template in a change set request: a TemplateBody may hold 51,200 bytes;
 * a template passed as TemplateURL (an S3 object) 1 MB, which the service enforces as 1,000,000 bytes.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const TEMPLATE_BODY_LIMIT_BYTES = 51_200
export const TEMPLATE_URL_LIMIT_BYTES = 1_000_000

/** A wait ended without success: `kind` says whether CloudFormation reported failure or our time limit ran out. */
export class CloudFormationWaitError extends Error {
  constructor(
    message: string,
    readonly kind: 'failed' | 'timeout',
    /** Last status seen (change set or stack status). */
    readonly status: string,
    /** CloudFormation's own reason, when it gave one. */
    readonly reason: string | null,
    /** waitForImport only: false when CloudFormation had not begun this import when the wait ended. */
    readonly started = true
  ) {
    super(message)
    this.name = 'CloudFormationWaitError'
  }
}

/**
 * The text of the template the stack was deployed with (GetTemplate, TemplateStage Original: before transforms),
 * JSON or YAML as CloudFormation holds it; the caller parses it.
 */
export async function getDeployedTemplateBody(
  cfn: Sender<CloudFormationClient>,
  stackName: string
): Promise<string> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }))
  const body = out.TemplateBody
  if (typeof body !== 'string' || body.trim() === '')
    throw new Error(`GetTemplate returned no template for stack ${stackName}`)
  return body
}

export interface ImportChangeSetParams {
  stackName: string
  changeSetName: string
  /** The template inline (at most TEMPLATE_BODY_LIMIT_BYTES) … */
  templateBody?: string
  /** … or the https:// URL of the S3 object that holds it (see execute/template-store.ts). */
  templateUrl?: string
  resourcesToImport: ResourceToImport[]
  /** True when the change set creates the stack (no stack, or one in REVIEW_IN_PROGRESS). */
  newStack: boolean
  /** What the deployed template demands (CAPABILITY_IAM, …); omitted when empty. */
  capabilities?: Capability[]
  /** The deployed template's parameters, each with UsePreviousValue (an import may not change them). */
  parameters?: Parameter[]
  description?: string
  /**
   * The CloudFormation execution role (RoleARN). CloudFormation uses it for this and every later operation on
   * the stack; omitted, the stack's current role is used (none for a new stack). The caller needs iam:PassRole.
   */
  roleArn?: string
}

/**
 * The exact CreateChangeSet request of an import (pure: also what dry-run shows).
 * ClientToken makes a retry of this one request by the SDK's retry strategy idempotent; we never retry it ourselves.
 */
export function importChangeSetInput(p: ImportChangeSetParams): CreateChangeSetCommandInput {
  const input: CreateChangeSetCommandInput = {
    StackName: p.stackName,
    ChangeSetName: p.changeSetName,
    ChangeSetType: 'IMPORT',
    ...(p.templateUrl !== undefined ? { TemplateURL: p.templateUrl } : { TemplateBody: p.templateBody }),
    ResourcesToImport: p.resourcesToImport.map(r => ({
      ResourceType: r.ResourceType,
      LogicalResourceId: r.LogicalResourceId,
      ResourceIdentifier: { ...r.ResourceIdentifier }
    })),
    ClientToken: p.changeSetName
  }
  if (p.description) input.Description = p.description
  if (!p.newStack && p.parameters && p.parameters.length > 0)
    input.Parameters = p.parameters.map(x => ({ ...x }))
  if (p.capabilities && p.capabilities.length > 0) input.Capabilities = [...p.capabilities]
  if (p.roleArn) input.RoleARN = p.roleArn
  return input
}

/**
 * Sends this exact CreateChangeSet request (built once by importChangeSetInput, also what dry-run shows and the
 * artifact records). One call, no retry of ours. Returns the change set and stack ARNs.
 */
export async function createImportChangeSet(
  cfn: Sender<CloudFormationClient>,
  request: CreateChangeSetCommandInput
): Promise<{ changeSetId: string; stackId: string }> {
  const out = await cfn.send(new CreateChangeSetCommand(request))
  if (!out.Id || !out.StackId)
    throw new Error(`CreateChangeSet for stack ${request.StackName} returned no change set id or stack id`)
  return { changeSetId: out.Id, stackId: out.StackId }
}

/** A wait limit as people read it: `45 s`, `5 min`, `2.5 min`. */
export function minutes(ms: number): string {
  const m = ms / 60_000
  return m >= 1 ? `${Math.round(m * 10) / 10} min` : `${Math.round(ms / 1000)} s`
}

/**
 * Polls DescribeChangeSet (by change set ARN) until CREATE_COMPLETE.
 * @throws CloudFormationWaitError kind 'failed' with the StatusReason when the change set ends FAILED (it must then
 *   never be executed), kind 'timeout' when the time limit runs out.
 */
export async function waitForChangeSet(
  cfn: Sender<CloudFormationClient>,
  changeSetId: string,
  poll: WaitOptions
): Promise<{ status: 'CREATE_COMPLETE'; executionStatus: string | null }> {
  const deadline = poll.now() + poll.maxWaitMs
  let status = 'UNKNOWN'
  for (;;) {
    const out = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId }))
    status = out.Status ?? 'UNKNOWN'
    if (status === 'CREATE_COMPLETE') return { status, executionStatus: out.ExecutionStatus ?? null }
    if (status === 'FAILED' || status.startsWith('DELETE_')) {
      const reason = out.StatusReason ?? null
      throw new CloudFormationWaitError(
        `change set ${changeSetId} is ${status}${reason ? `: ${reason}` : ''}`,
        'failed',
        status,
        reason
      )
    }
    if (poll.now() + poll.pollMs > deadline) {
      throw new CloudFormationWaitError(
        `change set ${changeSetId} was still ${status} after ${minutes(poll.maxWaitMs)}`,
        'timeout',
        status,
        out.StatusReason ?? null
      )
    }
    await poll.sleep(poll.pollMs)
  }
}

/**
 * Deletes a change set by ARN (one that ended FAILED: it can never be executed, and it stays in the
 * stack's change set list until deleted). For a change set that created its stack, the stack stays
 * in REVIEW_IN_PROGRESS without resources.
 */
export async function deleteChangeSet(cfn: Sender<CloudFormationClient>, changeSetId: string): Promise<void> {
  await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: changeSetId }))
}

/** Executes a change set that reached CREATE_COMPLETE. */
export async function executeChangeSet(
  cfn: Sender<CloudFormationClient>,
  changeSetId: string,
  clientRequestToken: string
): Promise<void> {
  await cfn.send(
    new ExecuteChangeSetCommand({ ChangeSetName: changeSetId, ClientRequestToken: clientRequestToken })
  )
}

/** Statuses of an import that is running (ours: the stack was refused if it was busy before). */
const IMPORT_RUNNING = new Set(['IMPORT_IN_PROGRESS', 'IMPORT_ROLLBACK_IN_PROGRESS'])

/**
 * The reason of the first failure of the latest operation: stack events come newest first, so read back to the
 * stack's own latest IMPORT_IN_PROGRESS event and take the oldest *_FAILED event after it.
 */
export async function firstFailureReason(
  cfn: Sender<CloudFormationClient>,
  stackId: string,
  maxPages = 5
): Promise<string | null> {
  const events: StackEvent[] = []
  let page = 0
  const pages = paginateDescribeStackEvents(
    { client: asClient(cfn, CloudFormationClient) },
    { StackName: stackId }
  )
  for await (const out of pages) {
    const batch = out.StackEvents ?? []
    const start = batch.findIndex(
      e =>
        e.ResourceType === 'AWS::CloudFormation::Stack' &&
        e.PhysicalResourceId === stackId &&
        e.ResourceStatus === 'IMPORT_IN_PROGRESS'
    )
    events.push(...(start < 0 ? batch : batch.slice(0, start)))
    // Leaving the loop stops the paginator: no page past the operation's start (or maxPages) is read.
    if (start >= 0 || ++page >= maxPages) break
  }
  const failed = events.filter(e => e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason)
  return failed.at(-1)?.ResourceStatusReason ?? null
}

/** The import waitForImport follows. */
export interface ImportTarget {
  /** Stack ARN (CreateChangeSet's StackId). */
  stackId: string
  /** The executed change set's ARN. */
  changeSetId: string
  /**
   * The stack's status before ExecuteChangeSet (REVIEW_IN_PROGRESS for a stack the change set created); null when
   * unknown. A stack that already ended an earlier import shows that IMPORT_COMPLETE / IMPORT_ROLLBACK_COMPLETE
   * until CloudFormation starts ours.
   */
  statusBefore: string | null
}

/**
 * Whether `status` belongs to our import. Right after ExecuteChangeSet DescribeStacks can still show the stack's
 * previous status (UPDATE_COMPLETE, REVIEW_IN_PROGRESS, …): a non-IMPORT_* status has not started. A finished
 * IMPORT_* status equal to the one before is ambiguous (the earlier import's, or ours already done between two
 * polls): the change set's ExecutionStatus decides (EXECUTE_COMPLETE / EXECUTE_FAILED once the stack operation ended).
 */
async function importStarted(
  cfn: Sender<CloudFormationClient>,
  target: ImportTarget,
  status: string
): Promise<boolean> {
  if (!status.startsWith('IMPORT_')) return false
  if (IMPORT_RUNNING.has(status) || status !== target.statusBefore) return true
  const out = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: target.changeSetId }))
  return out.ExecutionStatus === 'EXECUTE_COMPLETE' || out.ExecutionStatus === 'EXECUTE_FAILED'
}

/**
 * Polls DescribeStacks by stack ARN until the import ends.
 * - Until the stack shows this import (see importStarted), whatever it shows is still pending.
 * - Then: IMPORT_COMPLETE → success; IMPORT_IN_PROGRESS / IMPORT_ROLLBACK_IN_PROGRESS → pending (the rollback is
 *   waited for to its end); IMPORT_ROLLBACK_COMPLETE / IMPORT_ROLLBACK_FAILED or any other status →
 *   CloudFormationWaitError 'failed' carrying the first failed stack event's reason (or the stack's StackStatusReason
 *   when the events cannot be read).
 * - The time limit → CloudFormationWaitError 'timeout', `started` saying whether the import had begun.
 */
export async function waitForImport(
  cfn: Sender<CloudFormationClient>,
  target: ImportTarget,
  poll: WaitOptions
): Promise<void> {
  const { stackId } = target
  const deadline = poll.now() + poll.maxWaitMs
  let started = false
  for (;;) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0]
    const status = stack?.StackStatus ?? 'UNKNOWN'
    started ||= await importStarted(cfn, target, status)
    if (started && status === 'IMPORT_COMPLETE') return
    if (started && !IMPORT_RUNNING.has(status)) {
      const reason = await failureReason(cfn, stackId, stack?.StackStatusReason ?? null)
      throw new CloudFormationWaitError(
        `stack ${stackId} is ${status}${reason ? `: ${reason}` : ''}`,
        'failed',
        status,
        reason
      )
    }
    if (poll.now() + poll.pollMs > deadline) {
      throw new CloudFormationWaitError(
        started
          ? `stack ${stackId} was still ${status} after ${minutes(poll.maxWaitMs)}`
          : `CloudFormation had not started the import into stack ${stackId} after ${minutes(poll.maxWaitMs)}: the stack still showed ${status}`,
        'timeout',
        status,
        stack?.StackStatusReason ?? null,
        started
      )
    }
    await poll.sleep(poll.pollMs)
  }
}

/**
 * firstFailureReason, else the stack's own StatusReason. Unreadable events (e.g. no cloudformation:DescribeStackEvents)
 * must not turn a known failure into an unknown outcome: the reason then says why it is missing.
 */
async function failureReason(
  cfn: Sender<CloudFormationClient>,
  stackId: string,
  statusReason: string | null
): Promise<string | null> {
  try {
    return (await firstFailureReason(cfn, stackId)) ?? statusReason
  } catch (err) {
    const unreadable = `the stack events could not be read: ${err instanceof Error ? err.message : String(err)}`
    return statusReason ? `${statusReason} (${unreadable})` : unreadable
  }
}

/** Which of the tables the stack now lists as its AWS::DynamoDB::Table or ::GlobalTable resources (by physical id = table name). */
export async function confirmOwned(
  cfn: Sender<CloudFormationClient>,
  stackId: string,
  tableNames: string[]
): Promise<{ owned: string[]; missing: string[] }> {
  const listed = new Set<string>()
  for (const r of await listAllStackResources(cfn, stackId)) {
    const table = r.ResourceType === 'AWS::DynamoDB::Table' || r.ResourceType === 'AWS::DynamoDB::GlobalTable'
    if (table && r.PhysicalResourceId) listed.add(r.PhysicalResourceId)
  }
  return { owned: tableNames.filter(t => listed.has(t)), missing: tableNames.filter(t => !listed.has(t)) }
}
