/** Contract tests for the DynamoDB read adapters: exact requests and emulator/AWS answers. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ListTagsOfResourceCommand,
  ResourceNotFoundException,
  ScanCommand,
  type TimeToLiveStatus
} from '@aws-sdk/client-dynamodb'
import { mockClient } from 'aws-sdk-client-mock'
import {
  describePitr,
  describeTableOrNull,
  describeTtl,
  listAllTags,
  tableHoldsData
} from '../../src/aws/dynamodb-read.js'

const ddbMock = mockClient(DynamoDBClient)
const ddb = new DynamoDBClient({ region: 'us-east-1' })
beforeEach(() => {
  ddbMock.reset()
})

function ddbError(name: string, message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message })
}

describe('describeTableOrNull', () => {
  it('answers null for ResourceNotFoundException and rethrows anything else', async () => {
    ddbMock
      .on(DescribeTableCommand, { TableName: 'gone' })
      .rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }))
      .on(DescribeTableCommand, { TableName: 'denied' })
      .rejects(ddbError('AccessDeniedException', 'not authorized'))

    expect(await describeTableOrNull(ddb, 'gone')).toBeNull()
    await expect(describeTableOrNull(ddb, 'denied')).rejects.toThrow('not authorized')
  })
})

describe('tableHoldsData', () => {
  it('asks a consistent Scan with Limit=1 and Select COUNT, never DescribeTable ItemCount', async () => {
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableName: 't', ItemCount: 0 } })
    ddbMock.on(ScanCommand).resolves({ Count: 1, ScannedCount: 1 })

    expect(await tableHoldsData(ddb, 't')).toBe(true)
    expect(ddbMock.commandCalls(ScanCommand).map(c => c.args[0].input)).toEqual([
      { TableName: 't', Limit: 1, Select: 'COUNT', ConsistentRead: true }
    ])
    expect(ddbMock.commandCalls(DescribeTableCommand)).toHaveLength(0)
  })

  it('follows LastEvaluatedKey past an empty page before deciding', async () => {
    const key = { pk: { S: 'a' } }
    ddbMock
      .on(ScanCommand, { TableName: 't', ExclusiveStartKey: undefined })
      .resolves({ Count: 0, LastEvaluatedKey: key })
      .on(ScanCommand, { TableName: 't', ExclusiveStartKey: key })
      .resolves({ Count: 1 })

    expect(await tableHoldsData(ddb, 't')).toBe(true)
    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(2)
  })

  it('is false when the scan ends without an item', async () => {
    ddbMock.on(ScanCommand).resolves({ Count: 0 })

    expect(await tableHoldsData(ddb, 't')).toBe(false)
  })
})

describe('describeTtl', () => {
  it.each<[TimeToLiveStatus, string | undefined, { enabled: boolean; attributeName?: string }]>([
    ['ENABLED', 'expiresAt', { enabled: true, attributeName: 'expiresAt' }],
    ['ENABLING', 'expiresAt', { enabled: true, attributeName: 'expiresAt' }],
    ['DISABLING', 'expiresAt', { enabled: false }],
    ['DISABLED', undefined, { enabled: false }]
  ])('status %s (attribute %s) reads as %j', async (status, attributeName, expected) => {
    ddbMock.on(DescribeTimeToLiveCommand).resolves({
      TimeToLiveDescription: {
        TimeToLiveStatus: status,
        ...(attributeName ? { AttributeName: attributeName } : {})
      }
    })

    expect(await describeTtl(ddb, 't')).toEqual(expected)
  })
})

describe('emulator gaps: an operation the endpoint does not implement reads as unknown (null)', () => {
  it.each([
    ['describePitr', () => describePitr(ddb, 't'), DescribeContinuousBackupsCommand],
    ['describeTtl', () => describeTtl(ddb, 't'), DescribeTimeToLiveCommand]
  ] as const)('%s: UnknownOperationException → null, AccessDenied rethrown', async (_name, read, command) => {
    ddbMock.on(command).rejects(ddbError('UnknownOperationException', ''))
    expect(await read()).toBeNull()

    ddbMock.on(command).rejects(ddbError('AccessDeniedException', 'not authorized'))
    await expect(read()).rejects.toThrow('not authorized')
  })

  it('describePitr reads ENABLED as true and DISABLED as false', async () => {
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' }
      }
    })
    expect(await describePitr(ddb, 't')).toBe(true)

    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' }
      }
    })
    expect(await describePitr(ddb, 't')).toBe(false)
  })
})

describe('listAllTags', () => {
  it('follows NextToken and keeps the later value of a key listed twice (moto re-tagging)', async () => {
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/t'
    ddbMock
      .on(ListTagsOfResourceCommand, { ResourceArn: arn, NextToken: undefined })
      .resolves({
        Tags: [
          { Key: 'team', Value: 'orders' },
          { Key: 'aws:cloudformation:stack-name', Value: 'pr-5-db' }
        ],
        NextToken: 'n1'
      })
      .on(ListTagsOfResourceCommand, { ResourceArn: arn, NextToken: 'n1' })
      .resolves({ Tags: [{ Key: 'team', Value: 'payments' }] })

    expect(await listAllTags(ddb, arn)).toEqual({
      team: 'payments',
      'aws:cloudformation:stack-name': 'pr-5-db'
    })
  })
})
