/**
 * DynamoDB resource-based policies of a table (GetResourcePolicy, PutResourcePolicy,
 * DeleteResourcePolicy), each conditional on the revision it expects, so a policy someone else
 * wrote meanwhile is never overwritten. What to put there is decided in execute/write-fence.ts.
 */
import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type DynamoDBClient
} from '@aws-sdk/client-dynamodb'
import type { Sender } from './clients.js'
import { awsErrorName } from './dynamodb-read.js'

export interface ResourcePolicy {
  /** The policy document as DynamoDB returns it (JSON text). */
  document: string
  revisionId: string
}

/** ExpectedRevisionId that makes PutResourcePolicy succeed only when the table has no policy. */
export const NO_POLICY = 'NO_POLICY'

/** The table's resource policy, or null when it has none (PolicyNotFoundException). */
export async function getResourcePolicy(
  ddb: Sender<DynamoDBClient>,
  resourceArn: string
): Promise<ResourcePolicy | null> {
  try {
    const out = await ddb.send(new GetResourcePolicyCommand({ ResourceArn: resourceArn }))
    if (out.Policy === undefined || out.RevisionId === undefined) return null
    return { document: out.Policy, revisionId: out.RevisionId }
  } catch (err) {
    if (awsErrorName(err) === 'PolicyNotFoundException') return null
    throw err
  }
}

/**
 * PutResourcePolicy, only if the table's policy is still at `expectedRevisionId` (NO_POLICY: only
 * if it has none); otherwise DynamoDB refuses with PolicyNotFoundException. Returns the new
 * revision id. (PutResourcePolicy is asynchronous: the policy is enforced a while later.)
 */
export async function putResourcePolicy(
  ddb: Sender<DynamoDBClient>,
  input: { resourceArn: string; document: string; expectedRevisionId: string }
): Promise<string> {
  const out = await ddb.send(
    new PutResourcePolicyCommand({
      ResourceArn: input.resourceArn,
      Policy: input.document,
      ExpectedRevisionId: input.expectedRevisionId
    })
  )
  if (out.RevisionId === undefined) throw new Error('PutResourcePolicy returned no RevisionId')
  return out.RevisionId
}

/** DeleteResourcePolicy, only if the table's policy is still at `expectedRevisionId`. */
export async function deleteResourcePolicy(
  ddb: Sender<DynamoDBClient>,
  input: { resourceArn: string; expectedRevisionId: string }
): Promise<void> {
  await ddb.send(
    new DeleteResourcePolicyCommand({
      ResourceArn: input.resourceArn,
      ExpectedRevisionId: input.expectedRevisionId
    })
  )
}
