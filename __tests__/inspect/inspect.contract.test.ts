/**
 * inspect() against mocked clients, for the answers moto cannot give: real CloudFormation's
 * DescribeStackResources by physical id, nested stacks, and per-call AccessDenied.
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
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ListTagsOfResourceCommand,
  ResourceNotFoundException,
  ScanCommand
} from '@aws-sdk/client-dynamodb'
import { mockClient } from 'aws-sdk-client-mock'
import { OperationError } from '../../src/errors.js'
import { inspect } from '../../src/inspect/inspect.js'
import { oneRegion } from '../../test-support/aws-clients.js'
import type { Discovery, Finding, Logger, TableSpec } from '../../src/types.js'

const ddbMock = mockClient(DynamoDBClient)
const cfnMock = mockClient(CloudFormationClient)
const clients = {
  dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
  cloudformation: new CloudFormationClient({ region: 'us-east-1' })
}
const logger: Logger = { info: () => {}, warning: () => {}, debug: () => {} }

const EXPECTED_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/pr-5-db/aaa'
const NESTED_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/pr-5-db-AuditNested-XYZ/bbb'
const LEGACY_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/legacy-db/ccc'

/** The live stack legacy-db, by name and by ARN. */
function legacyStack(): void {
  const stack = {
    StackName: 'legacy-db',
    StackId: LEGACY_ID,
    StackStatus: 'CREATE_COMPLETE' as const,
    CreationTime: new Date(0)
  }
  cfnMock.on(DescribeStacksCommand, { StackName: 'legacy-db' }).resolves({ Stacks: [stack] })
  cfnMock.on(DescribeStacksCommand, { StackName: LEGACY_ID }).resolves({ Stacks: [stack] })
}

function cfnError(name: string, message: string): CloudFormationServiceException {
  return new CloudFormationServiceException({ name, $fault: 'client', $metadata: {}, message })
}
function ddbError(name: string, message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({ name, $fault: 'client', $metadata: {}, message })
}
function resource(
  logicalId: string,
  physicalId: string,
  type = 'AWS::DynamoDB::Table',
  status = 'CREATE_COMPLETE'
) {
  return {
    LogicalResourceId: logicalId,
    PhysicalResourceId: physicalId,
    ResourceType: type,
    ResourceStatus: status,
    LastUpdatedTimestamp: new Date(0)
  } as StackResourceSummary
}
function spec(tableName: string | null, over: Partial<TableSpec> = {}): TableSpec {
  return {
    tableName,
    stack: 'pr-5-db',
    logicalId: 'MainTable',
    resourceType: 'AWS::DynamoDB::Table',
    nestedPath: [],
    deletionPolicy: null,
    updateReplacePolicy: null,
    properties: null,
    templateFile: null,
    ...over
  }
}
const discovery = (...tables: TableSpec[]): Discovery => ({
  source: 'template',
  stacks: [],
  tables,
  notes: [],
  warnings: []
})
const run = (...tables: TableSpec[]) =>
  inspect(oneRegion(clients), discovery(...tables), { identity: null, logger })
async function one(s: TableSpec): Promise<Finding> {
  return (await run(s)).findings[0] as Finding
}

/** An existing table `pr-5-main` with one item and the given tags; the expected stack exists without it. */
beforeEach(() => {
  ddbMock.reset()
  cfnMock.reset()
  ddbMock.on(DescribeTableCommand).resolves({
    Table: {
      TableName: 'pr-5-main',
      TableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main',
      TableStatus: 'ACTIVE',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      ItemCount: 0
    }
  })
  ddbMock.on(DescribeTimeToLiveCommand).resolves({ TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } })
  ddbMock.on(DescribeContinuousBackupsCommand).resolves({
    ContinuousBackupsDescription: {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' }
    }
  })
  ddbMock.on(ListTagsOfResourceCommand).resolves({ Tags: [] })
  ddbMock.on(ScanCommand).resolves({ Count: 1 })
  cfnMock.on(DescribeStacksCommand).rejects(cfnError('ValidationError', 'Stack with id X does not exist'))
  cfnMock.on(DescribeStacksCommand, { StackName: 'pr-5-db' }).resolves({
    Stacks: [
      {
        StackName: 'pr-5-db',
        StackId: EXPECTED_ID,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(0)
      }
    ]
  })
  cfnMock.on(ListStackResourcesCommand, { StackName: EXPECTED_ID }).resolves({ StackResourceSummaries: [] })
  cfnMock
    .on(DescribeStackResourcesCommand)
    .rejects(cfnError('ValidationError', 'Stack for pr-5-main does not exist'))
})

describe('owner on real CloudFormation answers', () => {
  it('is other-stack:<name> when DescribeStackResources by physical id names another live stack', async () => {
    cfnMock.on(DescribeStackResourcesCommand, { PhysicalResourceId: 'pr-5-main' }).resolves({
      StackResources: [
        {
          StackName: 'legacy-db',
          PhysicalResourceId: 'pr-5-main',
          LogicalResourceId: 'T',
          ResourceType: 'AWS::DynamoDB::Table',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: new Date(0)
        }
      ]
    })
    legacyStack()
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID })
      .resolves({ StackResourceSummaries: [resource('T', 'pr-5-main')] })

    expect(await one(spec('pr-5-main'))).toMatchObject({ owner: 'other-stack:legacy-db', problems: [] })
  })

  it('a live stack of more than 100 resources owns the table: DescribeStackResources returns 100 without it, ListStackResources (every page) confirms', async () => {
    // Recorded shapes: DescribeStackResources by physical id answers the first 100 resources of
    // the owning stack (no NextToken); ListStackResources pages by 100.
    const topics = Array.from({ length: 250 }, (_, i) =>
      resource(`Topic${i}`, `topic-${i}`, 'AWS::SNS::Topic')
    )
    cfnMock.on(DescribeStackResourcesCommand, { PhysicalResourceId: 'pr-5-main' }).resolves({
      StackResources: topics.slice(0, 100).map(r => ({
        ...r,
        StackName: 'legacy-db',
        StackId: LEGACY_ID,
        Timestamp: new Date(0)
      }))
    })
    legacyStack()
    const all = [...topics.slice(0, 170), resource('T', 'pr-5-main'), ...topics.slice(170)]
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID })
      .resolves({ StackResourceSummaries: all.slice(0, 100), NextToken: 'p2' })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID, NextToken: 'p2' })
      .resolves({ StackResourceSummaries: all.slice(100, 200), NextToken: 'p3' })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID, NextToken: 'p3' })
      .resolves({ StackResourceSummaries: all.slice(200) })

    const f = await one(spec('pr-5-main'))

    expect(f).toMatchObject({ owner: 'other-stack:legacy-db', problems: [] })
    expect(cfnMock.commandCalls(ListStackResourcesCommand, { StackName: LEGACY_ID })).toHaveLength(3)
  })

  it('a stack DescribeStackResources names is not the owner unless its resources list the table', async () => {
    cfnMock.on(DescribeStackResourcesCommand, { PhysicalResourceId: 'pr-5-main' }).resolves({
      StackResources: [
        {
          StackName: 'legacy-db',
          StackId: LEGACY_ID,
          PhysicalResourceId: 'topic-1',
          LogicalResourceId: 'Topic1',
          ResourceType: 'AWS::SNS::Topic',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: new Date(0)
        }
      ]
    })
    legacyStack()
    cfnMock.on(ListStackResourcesCommand, { StackName: LEGACY_ID }).resolves({
      StackResourceSummaries: [resource('Topic1', 'topic-1', 'AWS::SNS::Topic')]
    })

    expect((await one(spec('pr-5-main'))).owner).toBe('unmanaged')
  })

  it('a tag only says which stack to ask: the tagged live stack that lists the table owns it (an imported table has no tag: DescribeStackResources finds it)', async () => {
    ddbMock
      .on(ListTagsOfResourceCommand)
      .resolves({ Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'legacy-db' }] })
    legacyStack()
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID })
      .resolves({ StackResourceSummaries: [resource('T', 'pr-5-main')] })

    expect((await one(spec('pr-5-main'))).owner).toBe('other-stack:legacy-db')
  })

  it('is stack when DescribeStackResources names a nested stack whose root is the expected stack', async () => {
    cfnMock.on(DescribeStackResourcesCommand, { PhysicalResourceId: 'pr-5-main' }).resolves({
      StackResources: [
        {
          StackName: 'pr-5-db-AuditNested-XYZ',
          PhysicalResourceId: 'pr-5-main',
          LogicalResourceId: 'T',
          ResourceType: 'AWS::DynamoDB::Table',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: new Date(0)
        }
      ]
    })
    cfnMock.on(DescribeStacksCommand, { StackName: 'pr-5-db-AuditNested-XYZ' }).resolves({
      Stacks: [
        {
          StackName: 'pr-5-db-AuditNested-XYZ',
          StackId: NESTED_ID,
          RootId: EXPECTED_ID,
          ParentId: EXPECTED_ID,
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(0)
        }
      ]
    })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: NESTED_ID })
      .resolves({ StackResourceSummaries: [resource('T', 'pr-5-main')] })

    expect((await one(spec('pr-5-main'))).owner).toBe('stack')
  })

  it('is stack when the table sits in a nested stack reached through the spec’s nestedPath (no DescribeStackResources help)', async () => {
    cfnMock.on(ListStackResourcesCommand, { StackName: EXPECTED_ID }).resolves({
      StackResourceSummaries: [resource('AuditNested', NESTED_ID, 'AWS::CloudFormation::Stack')]
    })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: NESTED_ID })
      .resolves({ StackResourceSummaries: [resource('AuditTable', 'pr-5-main')] })
    cfnMock
      .on(DescribeStackResourcesCommand)
      .rejects(cfnError('ValidationError', 'Stack with id None does not exist'))

    expect((await one(spec('pr-5-main', { nestedPath: ['AuditNested'] }))).owner).toBe('stack')
  })

  it.each(['DELETE_SKIPPED', 'DELETE_COMPLETE', 'CREATE_FAILED'])(
    'is retained, not stack, when the expected stack lists the table as %s',
    async status => {
      cfnMock.on(ListStackResourcesCommand, { StackName: EXPECTED_ID }).resolves({
        StackResourceSummaries: [resource('MainTable', 'pr-5-main', 'AWS::DynamoDB::Table', status)]
      })
      ddbMock
        .on(ListTagsOfResourceCommand)
        .resolves({ Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'pr-5-db' }] })

      expect(await one(spec('pr-5-main'))).toMatchObject({ owner: 'retained', retainedFrom: 'pr-5-db' })
    }
  )
})

describe('data', () => {
  it('hasData is true from Scan even when DescribeTable ItemCount says 0', async () => {
    const f = await one(spec('pr-5-main'))

    expect(f.live?.itemCountEstimate).toBe(0)
    expect(f.hasData).toBe(true)
  })
})

describe('failures', () => {
  it('AccessDenied on a config read becomes a problem and an unreadable field, not a throw', async () => {
    ddbMock
      .on(DescribeContinuousBackupsCommand)
      .rejects(ddbError('AccessDeniedException', 'no dynamodb:DescribeContinuousBackups'))

    const f = await one(spec('pr-5-main'))

    expect(f.owner).toBe('unmanaged')
    expect(f.live?.unreadable).toEqual(['pitr'])
    expect(f.problems).toEqual(['DescribeContinuousBackups failed: no dynamodb:DescribeContinuousBackups'])
  })

  it('DescribeStackResources denied: the owner is unknown (never unmanaged), naming the permission', async () => {
    cfnMock
      .on(DescribeStackResourcesCommand)
      .rejects(
        cfnError('AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStackResources')
      )

    const f = await one(spec('pr-5-main'))
    expect(f.owner).toBe('unknown')
    expect(f.ownerUnknownBecause).toMatch(
      /^DescribeStackResources for pr-5-main was denied \(it needs cloudformation:DescribeStackResources\)/
    )
  })

  it('tags that cannot be read: the owner is unknown (a tag may name the stack to ask), naming the permission', async () => {
    ddbMock
      .on(ListTagsOfResourceCommand)
      .rejects(ddbError('AccessDeniedException', 'not authorized to perform: dynamodb:ListTagsOfResource'))

    const f = await one(spec('pr-5-main'))
    expect(f.owner).toBe('unknown')
    expect(f.ownerUnknownBecause).toMatch(/ListTagsOfResource for pr-5-main .*dynamodb:ListTagsOfResource/)
  })

  it('a candidate stack that cannot be listed: the owner is unknown, naming the permission and the stack', async () => {
    ddbMock
      .on(ListTagsOfResourceCommand)
      .resolves({ Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'legacy-db' }] })
    legacyStack()
    cfnMock
      .on(ListStackResourcesCommand, { StackName: LEGACY_ID })
      .rejects(cfnError('AccessDenied', 'not authorized to perform: cloudformation:ListStackResources'))

    const f = await one(spec('pr-5-main'))
    expect(f.owner).toBe('unknown')
    expect(f.ownerUnknownBecause).toMatch(
      /Reading stack legacy-db was denied \(it needs cloudformation:DescribeStacks and cloudformation:ListStackResources on stack legacy-db\)/
    )
  })

  it('a failed read does not matter once the expected stack is found to own the table', async () => {
    cfnMock.on(ListStackResourcesCommand, { StackName: EXPECTED_ID }).resolves({
      StackResourceSummaries: [resource('MainTable', 'pr-5-main')]
    })
    cfnMock.on(DescribeStackResourcesCommand).rejects(cfnError('AccessDenied', 'denied'))

    expect((await one(spec('pr-5-main'))).owner).toBe('stack')
  })

  it('an operation the endpoint does not implement (dynalite: PITR, TTL) is unreadable with a problem', async () => {
    ddbMock.on(DescribeContinuousBackupsCommand).rejects(ddbError('UnknownOperationException', ''))
    ddbMock.on(DescribeTimeToLiveCommand).rejects(ddbError('UnknownOperationException', ''))

    const f = await one(spec('pr-5-main'))

    expect(f.live).toMatchObject({ pitr: false, ttl: { enabled: false }, unreadable: ['ttl', 'pitr'] })
    expect(f.problems.sort()).toEqual([
      'TTL unknown: the endpoint does not implement DescribeTimeToLive',
      'point-in-time recovery unknown: the endpoint does not implement DescribeContinuousBackups'
    ])
  })

  it('a failed Scan leaves hasData null with a problem', async () => {
    ddbMock.on(ScanCommand).rejects(ddbError('AccessDeniedException', 'no dynamodb:Scan'))

    expect(await one(spec('pr-5-main'))).toMatchObject({
      hasData: null,
      problems: ['Scan failed: no dynamodb:Scan']
    })
  })

  it('throws an OperationError naming the table and the call when existence cannot be read', async () => {
    ddbMock.on(DescribeTableCommand).rejects(ddbError('AccessDeniedException', 'no dynamodb:DescribeTable'))

    const err = await run(spec('pr-5-main')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OperationError)
    expect((err as Error).message).toBe(
      'DescribeTable pr-5-main in us-east-1 failed: no dynamodb:DescribeTable'
    )
  })

  it('throws naming the stack when an expected stack cannot be read', async () => {
    cfnMock
      .on(DescribeStacksCommand, { StackName: 'pr-5-db' })
      .rejects(cfnError('AccessDenied', 'no cloudformation:DescribeStacks'))

    await expect(run(spec('pr-5-main'))).rejects.toThrow(/stack pr-5-db .*no cloudformation:DescribeStacks/)
  })
})

describe('scope', () => {
  it('skips specs without a table name and reads each expected stack once', async () => {
    ddbMock
      .on(DescribeTableCommand, { TableName: 'pr-5-gone' })
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }))

    const result = await run(
      spec(null, { unresolvedReason: 'Fn::ImportValue' }),
      spec('pr-5-main'),
      spec('pr-5-gone')
    )

    expect(result.findings.map(f => [f.tableName, f.exists])).toEqual([
      ['pr-5-main', true],
      ['pr-5-gone', false]
    ])
    expect(result.stacks).toEqual([
      { name: 'pr-5-db', region: 'us-east-1', exists: true, stackId: EXPECTED_ID, status: 'UPDATE_COMPLETE' }
    ])
    expect(cfnMock.commandCalls(DescribeStacksCommand, { StackName: 'pr-5-db' })).toHaveLength(1)
    expect(cfnMock.commandCalls(ListStackResourcesCommand)).toHaveLength(1)
  })
})
