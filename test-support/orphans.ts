/**
 * Makes orphans the way they happen in real life, on moto: a stack creates a table with
 * DeletionPolicy Retain, the stack is deleted, and the table stays with its data and its
 * aws:cloudformation:* tags. Also hand-made (unmanaged) tables and item loading.
 */
import {
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type CloudFormationClient,
  type Stack
} from '@aws-sdk/client-cloudformation'
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  ListTagsOfResourceCommand,
  TagResourceCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest
} from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../src/aws/clients.js'
import type { CfnTemplate, ScalarAttrType } from '../src/types.js'

export type Item = Record<string, AttributeValue>

export interface TableKeys {
  partition: { name: string; type: ScalarAttrType }
  sort?: { name: string; type: ScalarAttrType }
}

export const DEFAULT_KEYS: TableKeys = {
  partition: { name: 'pk', type: 'S' },
  sort: { name: 'sk', type: 'S' }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function waitForStack(
  cfn: CfnSend,
  stackId: string,
  wanted: string,
  timeoutMs = 30_000
): Promise<Stack> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0]
    const status = stack?.StackStatus ?? 'MISSING'
    if (stack && status === wanted) return stack
    if (!status.endsWith('_IN_PROGRESS') || Date.now() > deadline) {
      throw new Error(`stack ${stackId} is ${status}, wanted ${wanted}: ${stack?.StackStatusReason ?? ''}`)
    }
    await sleep(100)
  }
}

type CfnSend = Pick<CloudFormationClient, 'send'>

/**
 * Real CloudFormation tags every table it creates with aws:cloudformation:stack-name, stack-id
 * and logical-id. moto 5.2 does that for EC2 resources only, so a moto-made table would lack the
 * very tags a retained orphan is recognised by. This adds exactly those tags where they are
 * missing (a no-op wherever the emulator already set them).
 */
async function addCloudFormationTagsMotoOmits(
  clients: AwsClients,
  stackName: string,
  stackId: string
): Promise<void> {
  const resources =
    (await clients.cloudformation.send(new ListStackResourcesCommand({ StackName: stackId })))
      .StackResourceSummaries ?? []
  for (const r of resources) {
    if (r.ResourceType !== 'AWS::DynamoDB::Table' || !r.PhysicalResourceId || !r.LogicalResourceId) continue
    const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: r.PhysicalResourceId })))
      .Table?.TableArn
    if (!arn) continue
    const existing =
      (await clients.dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags ?? []
    if (existing.some(t => t.Key === 'aws:cloudformation:stack-id')) continue
    await clients.dynamodb.send(
      new TagResourceCommand({
        ResourceArn: arn,
        Tags: [
          { Key: 'aws:cloudformation:stack-name', Value: stackName },
          { Key: 'aws:cloudformation:stack-id', Value: stackId },
          { Key: 'aws:cloudformation:logical-id', Value: r.LogicalResourceId }
        ]
      })
    )
  }
}

/**
 * CreateStack and wait for CREATE_COMPLETE; returns the stack id. Given both clients, the stack's
 * tables also carry the aws:cloudformation:* tags real CloudFormation gives them (moto omits them).
 */
export async function createStackAndWait(
  cfnOrClients: CfnSend | AwsClients,
  stackName: string,
  template: CfnTemplate
): Promise<string> {
  const clients = 'cloudformation' in cfnOrClients ? cfnOrClients : null
  const cfn = clients ? clients.cloudformation : (cfnOrClients as CfnSend)
  const out = await cfn.send(
    new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) })
  )
  const stackId = out.StackId ?? stackName
  await waitForStack(cfn, stackId, 'CREATE_COMPLETE')
  if (clients) await addCloudFormationTagsMotoOmits(clients, stackName, stackId)
  return stackId
}

/** DeleteStack and wait for DELETE_COMPLETE (looked up by id, since a deleted stack loses its name). */
export async function deleteStackAndWait(
  cfn: Pick<CloudFormationClient, 'send'>,
  stackId: string
): Promise<void> {
  await cfn.send(new DeleteStackCommand({ StackName: stackId }))
  await waitForStack(cfn, stackId, 'DELETE_COMPLETE')
}

function keyProps(keys: TableKeys): {
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  AttributeDefinitions: { AttributeName: string; AttributeType: ScalarAttrType }[]
} {
  const parts = [
    { ...keys.partition, keyType: 'HASH' as const },
    ...(keys.sort ? [{ ...keys.sort, keyType: 'RANGE' as const }] : [])
  ]
  return {
    KeySchema: parts.map(k => ({ AttributeName: k.name, KeyType: k.keyType })),
    AttributeDefinitions: parts.map(k => ({ AttributeName: k.name, AttributeType: k.type }))
  }
}

/**
 * A one-table template. `properties` are merged over the defaults (on-demand billing, the keys),
 * e.g. `{ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }`.
 */
export function tableTemplate(opts: {
  tableName: string
  logicalId?: string
  keys?: TableKeys
  deletionPolicy?: 'Retain' | 'Delete'
  properties?: Record<string, unknown>
}): CfnTemplate {
  return {
    Resources: {
      [opts.logicalId ?? 'MainTable']: {
        Type: 'AWS::DynamoDB::Table',
        ...(opts.deletionPolicy
          ? { DeletionPolicy: opts.deletionPolicy, UpdateReplacePolicy: opts.deletionPolicy }
          : {}),
        Properties: {
          TableName: opts.tableName,
          BillingMode: 'PAY_PER_REQUEST',
          ...keyProps(opts.keys ?? DEFAULT_KEYS),
          ...opts.properties
        }
      }
    }
  }
}

/** One template holding the resources of several (e.g. `tableTemplate(...)` results). */
export function mergeTemplates(...templates: CfnTemplate[]): CfnTemplate {
  return {
    Resources: Object.assign({}, ...templates.map(t => t.Resources ?? {})) as CfnTemplate['Resources']
  }
}

/** Writes items with BatchWriteItem (25 per request), resending anything left unprocessed. */
export async function putItems(
  ddb: Pick<DynamoDBClient, 'send'>,
  tableName: string,
  items: Item[]
): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending: WriteRequest[] = items.slice(i, i + 25).map(Item => ({ PutRequest: { Item } }))
    for (let round = 0; pending.length > 0; round++) {
      if (round > 10) throw new Error(`putItems: ${pending.length} items stayed unprocessed in ${tableName}`)
      const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }))
      pending = out.UnprocessedItems?.[tableName] ?? []
    }
  }
}

/** `n` small items `{ pk: 'item-i', sk: 'v' }` for the default keys. */
export function sampleItems(n: number): Item[] {
  return Array.from({ length: n }, (_, i) => ({
    pk: { S: `item-${i}` },
    sk: { S: 'v' },
    n: { N: String(i) }
  }))
}

/**
 * A real retained orphan: CreateStack (table with DeletionPolicy Retain) → CREATE_COMPLETE →
 * put items → DeleteStack → DELETE_COMPLETE. The table survives with its items and its
 * aws:cloudformation:stack-name / stack-id / logical-id tags. Returns the deleted stack's id.
 */
export async function makeRetainedOrphan(
  clients: AwsClients,
  opts: {
    stackName: string
    tableName: string
    logicalId?: string
    keys?: TableKeys
    items?: Item[]
    properties?: Record<string, unknown>
  }
): Promise<{ stackId: string }> {
  const template = tableTemplate({ ...opts, deletionPolicy: 'Retain' })
  const stackId = await createStackAndWait(clients, opts.stackName, template)
  await putItems(clients.dynamodb, opts.tableName, opts.items ?? [])
  await deleteStackAndWait(clients.cloudformation, stackId)
  return { stackId }
}

/** A table made by hand (CreateTable, no stack ever knew it), optionally with items, tags and a stream. */
export async function makeUnmanagedTable(
  ddb: Pick<DynamoDBClient, 'send'>,
  opts: {
    tableName: string
    keys?: TableKeys
    items?: Item[]
    tags?: Record<string, string>
    stream?: 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY'
  }
): Promise<void> {
  const tags = Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value }))
  await ddb.send(
    new CreateTableCommand({
      TableName: opts.tableName,
      BillingMode: 'PAY_PER_REQUEST',
      ...keyProps(opts.keys ?? DEFAULT_KEYS),
      ...(tags.length > 0 ? { Tags: tags } : {}),
      ...(opts.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: opts.stream } } : {})
    })
  )
  await putItems(ddb, opts.tableName, opts.items ?? [])
}

/**
 * The orphans the committed fixture assembly (__fixtures__/cdk-out-pr-5) collides with: its main
 * table retained from the deleted database stack, holding `items`, and its api cache table made
 * by hand, empty.
 */
export async function makeFixtureOrphans(clients: AwsClients, items: Item[] = sampleItems(3)): Promise<void> {
  await makeRetainedOrphan(clients, {
    stackName: 'pr-5-aws-boilerplate-database',
    tableName: 'pr-5-main-table',
    logicalId: 'MainTable74195DAB',
    items
  })
  await makeUnmanagedTable(clients.dynamodb, {
    tableName: 'pr-5-api-cache',
    keys: { partition: { name: 'key', type: 'S' } }
  })
}
