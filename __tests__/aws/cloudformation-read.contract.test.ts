/**
 * Contract tests for the CloudFormation read adapters: the exact requests, and the answers real
 * CloudFormation gives that no emulator reproduces (moto ignores PhysicalResourceId).
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResource
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import {
  describeStackOrNull,
  stackForPhysicalId,
  listAllStackResources
} from '../../src/aws/cloudformation-read.js'

const cfnMock = mockClient(CloudFormationClient)
const cfn = new CloudFormationClient({ region: 'us-east-1' })
beforeEach(() => {
  cfnMock.reset()
})

function cfnError(name: string, message: string): CloudFormationServiceException {
  return new CloudFormationServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message
  })
}

const BIG_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/legacy-db/1'

/** A resource of stack legacy-db as DescribeStackResources returns it. */
function stackResource(logicalId: string, physicalId: string, type = 'AWS::SNS::Topic'): StackResource {
  return {
    StackName: 'legacy-db',
    StackId: BIG_ID,
    LogicalResourceId: logicalId,
    PhysicalResourceId: physicalId,
    ResourceType: type,
    ResourceStatus: 'CREATE_COMPLETE',
    Timestamp: new Date(0)
  }
}

describe('stackForPhysicalId', () => {
  it('asks DescribeStackResources by physical id and answers the stack that holds the table', async () => {
    cfnMock.on(DescribeStackResourcesCommand).resolves({
      StackResources: [stackResource('MainTable', 'pr-5-main-table', 'AWS::DynamoDB::Table')]
    })

    expect(await stackForPhysicalId(cfn, 'pr-5-main-table')).toEqual({ name: 'legacy-db', id: BIG_ID })
    expect(cfnMock.commandCalls(DescribeStackResourcesCommand).map(c => c.args[0].input)).toEqual([
      { PhysicalResourceId: 'pr-5-main-table' }
    ])
  })

  it('names the stack even when the table is not among the (at most 100) resources returned', async () => {
    // Recorded shape: a stack of 130 resources; the answer holds its first 100, the table is the 117th.
    cfnMock.on(DescribeStackResourcesCommand).resolves({
      StackResources: Array.from({ length: 100 }, (_, i) => stackResource(`Topic${i}`, `topic-${i}`))
    })

    expect(await stackForPhysicalId(cfn, 'pr-5-main-table')).toEqual({ name: 'legacy-db', id: BIG_ID })
  })

  it.each([
    ['real CloudFormation, unmanaged table', 'Stack for pr-5-main-table does not exist'],
    ['moto, which ignores PhysicalResourceId', 'Stack with id None does not exist']
  ])('answers null on ValidationError "does not exist" (%s)', async (_case, message) => {
    cfnMock.on(DescribeStackResourcesCommand).rejects(cfnError('ValidationError', message))

    expect(await stackForPhysicalId(cfn, 'pr-5-main-table')).toBeNull()
  })

  it('answers null for an empty answer', async () => {
    cfnMock.on(DescribeStackResourcesCommand).resolves({ StackResources: [] })

    expect(await stackForPhysicalId(cfn, 'pr-5-main-table')).toBeNull()
  })

  it.each([
    ['AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStackResources'],
    ['ValidationError', '1 validation error detected']
  ])('rethrows any other error (%s)', async (name, message) => {
    cfnMock.on(DescribeStackResourcesCommand).rejects(cfnError(name, message))

    await expect(stackForPhysicalId(cfn, 'pr-5-main-table')).rejects.toThrow(message)
  })
})

describe('describeStackOrNull', () => {
  it('answers null for "Stack with id X does not exist"', async () => {
    cfnMock
      .on(DescribeStacksCommand)
      .rejects(cfnError('ValidationError', 'Stack with id pr-5-db does not exist'))

    expect(await describeStackOrNull(cfn, 'pr-5-db')).toBeNull()
  })

  it('skips DELETE_COMPLETE stacks (found when asked by stack id)', async () => {
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'pr-5-db', StackStatus: 'DELETE_COMPLETE', CreationTime: new Date(0) }]
    })

    expect(await describeStackOrNull(cfn, 'arn:aws:cloudformation:us-east-1:1:stack/pr-5-db/1')).toBeNull()
  })

  it('answers the newest live stack when an emulator lists two under one name', async () => {
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'pr-5-db',
          StackId: 'old',
          StackStatus: 'REVIEW_IN_PROGRESS',
          CreationTime: new Date(1000)
        },
        {
          StackName: 'pr-5-db',
          StackId: 'new',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(2000)
        },
        {
          StackName: 'pr-5-db',
          StackId: 'gone',
          StackStatus: 'DELETE_COMPLETE',
          CreationTime: new Date(3000)
        }
      ]
    })

    expect((await describeStackOrNull(cfn, 'pr-5-db'))?.StackId).toBe('new')
  })

  it('rethrows other errors', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(cfnError('AccessDenied', 'not authorized'))

    await expect(describeStackOrNull(cfn, 'pr-5-db')).rejects.toThrow('not authorized')
  })
})

describe('listAllStackResources', () => {
  it('follows NextToken until the last page', async () => {
    const summary = (id: string) => ({
      LogicalResourceId: id,
      ResourceType: 'AWS::DynamoDB::Table',
      ResourceStatus: 'CREATE_COMPLETE' as const,
      LastUpdatedTimestamp: new Date(0)
    })
    cfnMock
      .on(ListStackResourcesCommand, { StackName: 'pr-5-db' })
      .resolves({ StackResourceSummaries: [summary('A')], NextToken: 't1' })
      .on(ListStackResourcesCommand, { StackName: 'pr-5-db', NextToken: 't1' })
      .resolves({ StackResourceSummaries: [summary('B')] })

    const resources = await listAllStackResources(cfn, 'pr-5-db')

    expect(resources.map(r => r.LogicalResourceId)).toEqual(['A', 'B'])
    expect(cfnMock.commandCalls(ListStackResourcesCommand)).toHaveLength(2)
  })
})
