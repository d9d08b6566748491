import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  paginateListStackResources,
  type Stack,
  type StackResourceSummary
} from '@aws-sdk/client-cloudformation'
import { asClient, type Sender } from './clients.js'

/** CloudFormation reports a missing stack as a ValidationError whose message says so. */
function isStackMissing(err: unknown): boolean {
  return err instanceof Error && err.name === 'ValidationError' && /does not exist/i.test(err.message)
}

/**
 * DescribeStacks for one stack; null when it does not exist. A stack ARN also finds deleted
 * stacks (status DELETE_COMPLETE): those count as missing too.
 *
 * moto can list two stacks under one name after an IMPORT attempt; real CloudFormation never has
 * two live stacks with one name. The newest live one is the one a deploy would act on.
 */
export async function describeStackOrNull(
  cfn: Sender<CloudFormationClient>,
  nameOrArn: string
): Promise<Stack | null> {
  let stacks: Stack[]
  try {
    stacks = (await cfn.send(new DescribeStacksCommand({ StackName: nameOrArn }))).Stacks ?? []
  } catch (err) {
    if (isStackMissing(err)) return null
    throw err
  }
  const live = stacks.filter(s => s.StackStatus !== 'DELETE_COMPLETE')
  live.sort((a, b) => (b.CreationTime?.getTime() ?? 0) - (a.CreationTime?.getTime() ?? 0))
  return live[0] ?? null
}

/** Every resource of a stack (ListStackResources, every page). */
export async function listAllStackResources(
  cfn: Sender<CloudFormationClient>,
  stackNameOrArn: string
): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = []
  const pages = paginateListStackResources(
    { client: asClient(cfn, CloudFormationClient) },
    { StackName: stackNameOrArn }
  )
  for await (const page of pages) resources.push(...(page.StackResourceSummaries ?? []))
  return resources
}

/** The stack DescribeStackResources names for a physical id. */
export interface StackCandidate {
  name: string
  /** The stack's ARN, when CloudFormation gave one. */
  id: string | null
}

/**
 * The stack CloudFormation names for the resource with this physical id (for a table: its name),
 * or null when it names none. For a resource in a nested stack this is the nested stack.
 *
 * DescribeStackResources by PhysicalResourceId answers with the resources of the stack that holds
 * that resource, but at most 100 of them and without a NextToken: in a stack of more than 100
 * resources the table itself may not be in the answer. The stack is therefore taken from whatever
 * resources come back (they all belong to it); the caller must confirm that this stack manages the
 * table, with ListStackResources followed to its last page, before calling the table its resource.
 *
 * Real CloudFormation answers an unmanaged id with ValidationError "Stack for <id> does not exist".
 * moto ignores PhysicalResourceId altogether and answers "Stack with id None does not exist" even
 * for managed tables, so on moto this always returns null. That is why owner detection in
 * inspect/ also asks the expected stack and the stack a tag names.
 */
export async function stackForPhysicalId(
  cfn: Sender<CloudFormationClient>,
  physicalId: string
): Promise<StackCandidate | null> {
  try {
    const out = await cfn.send(new DescribeStackResourcesCommand({ PhysicalResourceId: physicalId }))
    const resources = out.StackResources ?? []
    const named = resources.find(r => r.PhysicalResourceId === physicalId) ?? resources[0]
    return named?.StackName ? { name: named.StackName, id: named.StackId ?? null } : null
  } catch (err) {
    if (isStackMissing(err)) return null
    throw err
  }
}
