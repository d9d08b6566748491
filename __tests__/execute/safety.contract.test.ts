/**
 * The last check before a delete asks the same ownership rule as the inspection (inspect/owner.ts),
 * against the answers real CloudFormation gives and no emulator does: a DescribeStackResources
 * answer of 100 resources without the table, and a read that fails. The owed-restore lookup of the
 * same check refuses when it cannot tell (seen to fail with the `problem` refusal of assertNotOwed
 * taken out: the check passed the table).
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary
} from '@aws-sdk/client-cloudformation'
import {
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ListTagsOfResourceCommand
} from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { assertMayTouch, SafetyRefusal } from '../../src/execute/safety.js'
import type { Policy } from '../../src/types.js'

const ddbMock = mockClient(DynamoDBClient)
const cfnMock = mockClient(CloudFormationClient)
const clients = {
  dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
  cloudformation: new CloudFormationClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  sts: new STSClient({ region: 'us-east-1' })
}
const policy: Policy = { stage: 'pr-5', strategy: 'delete', protectedStage: false, allowDataLoss: true }
const guard = {
  tableName: 'pr-5-main',
  owed: null,
  expectedStack: 'pr-5-db',
  policy,
  declaredByTemplate: true
}
const TABLE = {
  TableName: 'pr-5-main',
  TableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main',
  TableStatus: 'ACTIVE' as const
}
const LEGACY_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/legacy-db/ccc'

const cfnError = (name: string, message: string) =>
  new CloudFormationServiceException({ name, $fault: 'client', $metadata: {}, message })
const summary = (logicalId: string, physicalId: string, type = 'AWS::SNS::Topic'): StackResourceSummary => ({
  LogicalResourceId: logicalId,
  PhysicalResourceId: physicalId,
  ResourceType: type,
  ResourceStatus: 'CREATE_COMPLETE',
  LastUpdatedTimestamp: new Date(0)
})

beforeEach(() => {
  ddbMock.reset()
  cfnMock.reset()
  ddbMock.on(DescribeTableCommand).resolves({ Table: TABLE })
  ddbMock.on(ListTagsOfResourceCommand).resolves({ Tags: [] })
  cfnMock.on(DescribeStacksCommand).rejects(cfnError('ValidationError', 'Stack with id X does not exist'))
  cfnMock
    .on(DescribeStackResourcesCommand)
    .rejects(cfnError('ValidationError', 'Stack for pr-5-main does not exist'))
})

async function refusal(g: Parameters<typeof assertMayTouch>[1] = guard): Promise<SafetyRefusal> {
  const err = await assertMayTouch(clients, g).catch((e: unknown) => e)
  if (!(err instanceof SafetyRefusal)) throw new Error(`expected a SafetyRefusal, got ${String(err)}`)
  return err
}

describe('assertMayTouch: ownership, asked afresh', () => {
  it('passes a table no stack owns (nothing names one, every read answered)', async () => {
    await expect(assertMayTouch(clients, guard)).resolves.toBe(true)
  })

  it('refuses a table of a live stack of 250 resources that DescribeStackResources (100, without the table) names and ListStackResources confirms on page 3', async () => {
    const topics = Array.from({ length: 250 }, (_, i) => summary(`Topic${i}`, `topic-${i}`))
    cfnMock.on(DescribeStackResourcesCommand, { PhysicalResourceId: 'pr-5-main' }).resolves({
      StackResources: topics
        .slice(0, 100)
        .map(r => ({ ...r, StackName: 'legacy-db', StackId: LEGACY_ID, Timestamp: new Date(0) }))
    })
    cfnMock.on(DescribeStacksCommand, { StackName: LEGACY_ID }).resolves({
      Stacks: [
        {
          StackName: 'legacy-db',
          StackId: LEGACY_ID,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(0)
        }
      ]
    })
    const all = [
      ...topics.slice(0, 230),
      summary('Orders', 'pr-5-main', 'AWS::DynamoDB::Table'),
      ...topics.slice(230)
    ]
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID })
      .resolves({ StackResourceSummaries: all.slice(0, 100), NextToken: 't2' })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID, NextToken: 't2' })
      .resolves({ StackResourceSummaries: all.slice(100, 200), NextToken: 't3' })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID, NextToken: 't3' })
      .resolves({ StackResourceSummaries: all.slice(200) })

    expect((await refusal()).message).toBe('Refusing to delete pr-5-main: live stack legacy-db owns it.')
  })

  it('refuses when DescribeStackResources is denied: an owner that cannot be known is never assumed absent', async () => {
    cfnMock
      .on(DescribeStackResourcesCommand)
      .rejects(cfnError('AccessDenied', 'not authorized to perform: cloudformation:DescribeStackResources'))

    expect((await refusal()).message).toMatch(
      /^Refusing to delete pr-5-main: its owner could not be determined \(DescribeStackResources for pr-5-main was denied \(it needs cloudformation:DescribeStackResources\)/
    )
  })

  it('refuses when the tags cannot be read', async () => {
    ddbMock.on(ListTagsOfResourceCommand).rejects(
      new DynamoDBServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: {},
        message: 'not authorized to perform: dynamodb:ListTagsOfResource'
      })
    )

    expect((await refusal()).message).toMatch(
      /its owner could not be determined .*dynamodb:ListTagsOfResource/
    )
  })
})

describe('assertMayTouch: whether the table is owed a restore, asked afresh', () => {
  const owed = {
    stage: 'pr-5',
    account: '123456789012',
    s3Bucket: null,
    s3: clients.s3,
    region: 'us-east-1',
    own: '20250304T050607Z'
  }

  it('refuses when the owed lookup cannot read the table (DescribeTable throttled on its second look): a table whose owed restore cannot be known is never deleted', async () => {
    ddbMock
      .on(DescribeTableCommand)
      .resolvesOnce({ Table: TABLE })
      .rejects(
        new DynamoDBServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: {},
          message: 'Rate of requests exceeds the allowed throughput.'
        })
      )

    expect((await refusal({ ...guard, owed })).message).toMatch(
      /^Refusing to delete pr-5-main: whether it is owed a restore could not be determined \(the table could not be described \(.*Rate of requests exceeds/
    )
  })
})
