/**
 * The write fence: between the check that a table's export is complete and its DeleteTable, a
 * DynamoDB resource-based policy on the table denies item writes (PutItem, UpdateItem,
 * DeleteItem, BatchWriteItem and the PartiQL writes; TransactWriteItems is authorised as those
 * same actions) to every principal but this run's own session. A write in that window is refused
 * with AccessDeniedException ("… is not authorized to perform: dynamodb:PutItem on resource: …
 * with an explicit deny in a resource-based policy") instead of being lost with the table: the
 * writer is told, and the table, scanned again after the fence is up, must still equal its export.
 *
 * The fence is one statement, `Sid: DynamoDBOrphanGuardWriteFence`. A policy the table already has
 * is kept: the fence is added to it (conditional on its revision, so nothing written meanwhile is
 * overwritten) and it is put back exactly as it was when the fence comes down. A fence that an
 * interrupted run left (recognised by its Sid) is treated as this action's own.
 *
 * Why `aws:userid`: for a role session it is `ROLEID:SESSION` (GetCallerIdentity's UserId), this
 * session and nothing else; `aws:PrincipalArn` would be the role's ARN (all its sessions, other
 * jobs included). The action itself writes nothing in the window; the exception keeps its own
 * session free to clean up.
 *
 * Enforcement is eventually consistent and its delay is not documented: the run waits until
 * GetResourcePolicy shows the fence, then FIRST_FENCE_SETTLE_MS (a table without a policy; about
 * 2 s measured by third parties) or CHANGED_FENCE_SETTLE_MS (a table whose policy changes; 221-237
 * s measured), before the table is scanned again.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Sender } from '../aws/clients.js'
import { awsErrorName } from '../aws/dynamodb-read.js'
import {
  deleteResourcePolicy,
  getResourcePolicy,
  NO_POLICY,
  putResourcePolicy,
  type ResourcePolicy
} from '../aws/resource-policy.js'
import { errorMessage, OperationError } from '../errors.js'
import { isRecord, type Clock } from '../types.js'

export const FENCE_SID = 'DynamoDBOrphanGuardWriteFence'

/** Every IAM action that writes items (TransactWriteItems and ExecuteTransaction are authorised as these). */
export const FENCED_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete'
] as const

/** DynamoDB's limit for a resource policy, whitespace included. */
export const MAX_POLICY_BYTES = 20 * 1024
export const FIRST_FENCE_SETTLE_MS = 10_000
export const CHANGED_FENCE_SETTLE_MS = 240_000
/** How long to wait for GetResourcePolicy to show the fence, and for the 15 s update block to pass. */
const VISIBLE_WITHIN_MS = 60_000
const POLL_MS = 2_000
const LOWER_WITHIN_MS = 90_000

/** The fence statement for a table; `userId` (aws:userid) is the one principal it lets write. */
export function fenceStatement(tableArn: string, userId: string | null): Record<string, unknown> {
  return {
    Sid: FENCE_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: [...FENCED_ACTIONS],
    Resource: tableArn,
    ...(userId === null ? {} : { Condition: { StringNotEquals: { 'aws:userid': userId } } })
  }
}

interface PolicyDoc {
  Version?: string
  Statement: Record<string, unknown>[]
  [key: string]: unknown
}

/** A policy document parsed, its Statement always an array; null when it is not a policy we can edit. */
function parsePolicy(document: string): PolicyDoc | null {
  let doc: unknown
  try {
    doc = JSON.parse(document)
  } catch {
    return null
  }
  if (!isRecord(doc)) return null
  const statements = doc.Statement
  const list = Array.isArray(statements) ? statements : isRecord(statements) ? [statements] : null
  if (list === null || !list.every(isRecord)) return null
  return { ...doc, Statement: list }
}

/** Whether a policy document holds the fence statement. */
export function hasFence(document: string): boolean {
  return parsePolicy(document)?.Statement.some(s => s.Sid === FENCE_SID) ?? false
}

/** The document without the fence statement (null when nothing else is left, or it cannot be parsed). */
export function withoutFence(document: string): string | null {
  const doc = parsePolicy(document)
  if (doc === null) return null
  const rest = doc.Statement.filter(s => s.Sid !== FENCE_SID)
  return rest.length === 0 ? null : JSON.stringify({ ...doc, Statement: rest })
}

/**
 * The policy to put: `base` (the table's own policy, or null) with the fence statement added.
 * Null when `base` cannot be parsed as a policy (it is never rewritten then).
 */
export function fencedDocument(base: string | null, statement: Record<string, unknown>): string | null {
  if (base === null) return JSON.stringify({ Version: '2012-10-17', Statement: [statement] })
  const doc = parsePolicy(base)
  if (doc === null) return null
  return JSON.stringify({ ...doc, Statement: [...doc.Statement.filter(s => s.Sid !== FENCE_SID), statement] })
}

export interface WriteFence {
  table: string
  tableArn: string
  /** The revision of the fenced policy (what lowering expects to find). */
  revisionId: string
  /** The table's own policy, put back when the fence comes down (null: the table had none). */
  previous: string | null
  /** The fenced document, for the report. */
  document: string
}

export type FenceResult = { fence: WriteFence; waitedMs: number } | { fence: null; why: string }

/** The answers that mean "this endpoint or these credentials cannot fence": go on without, and say so. */
function cannotFence(err: unknown): boolean {
  const name = awsErrorName(err)
  return (
    name === 'AccessDeniedException' ||
    name === 'AccessDenied' ||
    name === 'UnknownOperationException' ||
    name === 'UnrecognizedClientException' ||
    /not (yet )?(implemented|supported)/i.test(errorMessage(err)) ||
    // dynalite and older endpoints: the operation is not in their model.
    (name === 'ValidationException' && /(unknown|unsupported) operation/i.test(errorMessage(err)))
  )
}

/**
 * Puts the fence on the table and waits until it can be expected to hold. Returns `{ fence: null,
 * why }` when the fence cannot be set (PutResourcePolicy denied or not supported, the table's own
 * policy unreadable as JSON or too large to take the statement): the caller goes on with the proof
 * (the scan after this must equal the export) and says that no fence was up. Any other failure
 * throws (nothing was changed, or the fence is lowered again first).
 */
export async function raiseWriteFence(
  ddb: Sender<DynamoDBClient>,
  input: { table: string; tableArn: string; userId: string | null },
  clock: Clock
): Promise<FenceResult> {
  const { table, tableArn } = input
  let existing: ResourcePolicy | null
  try {
    existing = await getResourcePolicy(ddb, tableArn)
  } catch (err) {
    if (cannotFence(err)) return { fence: null, why: `GetResourcePolicy: ${errorMessage(err)}` }
    throw err
  }
  // A fence left by an interrupted run is ours: the table's own policy is what remains without it.
  const previous =
    existing === null
      ? null
      : hasFence(existing.document)
        ? withoutFence(existing.document)
        : existing.document
  const document = fencedDocument(previous, fenceStatement(tableArn, input.userId))
  if (document === null) {
    return {
      fence: null,
      why: `the table's resource policy is not a JSON policy document the action can add a statement to`
    }
  }
  if (Buffer.byteLength(document) > MAX_POLICY_BYTES) {
    return {
      fence: null,
      why: `the table's resource policy plus the fence would be ${Buffer.byteLength(document)} bytes, over DynamoDB's ${MAX_POLICY_BYTES}`
    }
  }
  if (existing !== null && existing.document === document) {
    // This very fence is already on (an interrupted run with this session's id): it has had time to take effect.
    return { fence: { table, tableArn, revisionId: existing.revisionId, previous, document }, waitedMs: 0 }
  }
  let revisionId: string
  try {
    revisionId = await putResourcePolicy(ddb, {
      resourceArn: tableArn,
      document,
      expectedRevisionId: existing?.revisionId ?? NO_POLICY
    })
  } catch (err) {
    if (cannotFence(err)) return { fence: null, why: `PutResourcePolicy: ${errorMessage(err)}` }
    throw new OperationError(
      `Setting the write fence on ${table} failed: ${errorMessage(err)}`,
      `The table ${table} is untouched (nothing was deleted)${awsErrorName(err) === 'PolicyNotFoundException' ? '; its resource policy changed while the fence was being added and was left as it is' : ''}. Run again.`,
      { cause: err }
    )
  }
  const fence: WriteFence = { table, tableArn, revisionId, previous, document }
  const start = clock.now()
  try {
    await waitUntilVisible(ddb, fence, clock)
    await clock.sleep(existing === null ? FIRST_FENCE_SETTLE_MS : CHANGED_FENCE_SETTLE_MS)
  } catch (err) {
    await lowerWriteFence(ddb, fence, clock).catch(() => undefined)
    throw err
  }
  return { fence, waitedMs: clock.now() - start }
}

async function waitUntilVisible(ddb: Sender<DynamoDBClient>, fence: WriteFence, clock: Clock): Promise<void> {
  const deadline = clock.now() + VISIBLE_WITHIN_MS
  for (;;) {
    const now = await getResourcePolicy(ddb, fence.tableArn)
    if (now?.revisionId === fence.revisionId) return
    if (clock.now() >= deadline) {
      throw new OperationError(
        `The write fence on ${fence.table} did not show in GetResourcePolicy within ${VISIBLE_WITHIN_MS / 1000} s (revision ${now?.revisionId ?? 'none'}, expected ${fence.revisionId})`,
        `The table ${fence.table} is untouched (nothing was deleted). Run again.`
      )
    }
    await clock.sleep(POLL_MS)
  }
}

/**
 * Takes the fence down: the table's own policy put back as it was, or the policy deleted when it
 * had none; each conditional on the fence's revision. If the policy changed since (someone edited
 * it), only the fence statement is taken out of what is there now. Retries for a while: DynamoDB
 * blocks a policy update for 15 s after the last one. Throws when the fence is still up after that.
 */
export async function lowerWriteFence(
  ddb: Sender<DynamoDBClient>,
  fence: WriteFence,
  clock: Clock
): Promise<void> {
  const deadline = clock.now() + LOWER_WITHIN_MS
  let lastError: unknown
  for (;;) {
    try {
      const now = await getResourcePolicy(ddb, fence.tableArn)
      if (now === null || !hasFence(now.document)) return
      const rest = now.revisionId === fence.revisionId ? fence.previous : withoutFence(now.document)
      if (rest === null)
        await deleteResourcePolicy(ddb, { resourceArn: fence.tableArn, expectedRevisionId: now.revisionId })
      else
        await putResourcePolicy(ddb, {
          resourceArn: fence.tableArn,
          document: rest,
          expectedRevisionId: now.revisionId
        })
      return
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return
      lastError = err
    }
    if (clock.now() >= deadline) break
    await clock.sleep(POLL_MS * 2)
  }
  throw new OperationError(
    `Removing the write fence from ${fence.table} failed: ${errorMessage(lastError)}`,
    `Item writes to ${fence.table} are still denied by the statement ${FENCE_SID} of its resource policy. Remove it: ${
      fence.previous === null
        ? `aws dynamodb delete-resource-policy --resource-arn ${fence.tableArn}`
        : `aws dynamodb put-resource-policy --resource-arn ${fence.tableArn} --policy '<the policy without ${FENCE_SID}>'`
    } (or run the action again: it removes a fence it left).`,
    { cause: lastError }
  )
}

/**
 * Removes a fence an interrupted run left on a table (found by its Sid), keeping the rest of its
 * policy. Returns whether there was one. Errors reading the policy (no permission, an endpoint
 * without resource policies) mean there is nothing this action could have left: false.
 */
export async function removeLeftoverFence(
  ddb: Sender<DynamoDBClient>,
  table: { name: string; arn: string },
  clock: Clock
): Promise<boolean> {
  let now: ResourcePolicy | null
  try {
    now = await getResourcePolicy(ddb, table.arn)
  } catch {
    return false
  }
  if (now === null || !hasFence(now.document)) return false
  await lowerWriteFence(
    ddb,
    {
      table: table.name,
      tableArn: table.arn,
      revisionId: now.revisionId,
      previous: withoutFence(now.document),
      document: now.document
    },
    clock
  )
  return true
}
