/**
 * Contract tests of importing a global table: CloudFormation IMPORT is emulated nowhere, so the client is
 * mocked by request. A live version 2019.11.21 global table is imported as an AWS::DynamoDB::GlobalTable
 * (identifier TableName) whose Replicas list every live replica with that replica's own settings, in the
 * template's order; anything else is refused before any CloudFormation call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListStackResourcesCommand,
  type CreateChangeSetCommandInput
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import { executeImports, type ImportCandidate } from '../../src/execute/import.js'
import { ImportRefusal, liveGlobalTableProperties } from '../../src/execute/import-template.js'
import type { CfnTemplate, LiveTable } from '../../src/types.js'
import { CHANGE_SET_ARN, CHANGE_SET_NAME, NOW, liveMainTable, tableSpec } from './import-builders.js'

const cfn = mockClient(CloudFormationClient)
const client = new CloudFormationClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
})
const STACK = 'pr-7-east'
const NEW_STACK_ID = `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK}/1f1e2d3c`

let artifactDir: string
beforeAll(async () => {
  artifactDir = await mkdtemp(path.join(tmpdir(), 'import-global-'))
})
afterAll(async () => {
  await rm(artifactDir, { recursive: true, force: true })
})
beforeEach(() => {
  cfn.reset()
})

const stream = { enabled: true, viewType: 'NEW_AND_OLD_IMAGES' }

/** The us-west-2 replica as read there: its own deletion protection, PITR, tags and KMS key. */
const westReplica: LiveTable = liveMainTable({
  tableName: 'pr-7-global',
  arn: 'arn:aws:dynamodb:us-west-2:123456789012:table/pr-7-global',
  stream,
  pitr: false,
  deletionProtection: true,
  tags: { region: 'west' },
  allTags: { region: 'west' },
  sse: { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/west' }
})

function globalLive(overrides: Partial<LiveTable> = {}): LiveTable {
  return liveMainTable({
    tableName: 'pr-7-global',
    arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-7-global',
    stream,
    sse: { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/east' },
    globalTable: {
      version: '2019.11.21',
      regions: ['us-east-1', 'us-west-2'],
      replicas: { 'us-west-2': westReplica }
    },
    ...overrides
  })
}

const globalSpec = tableSpec({
  tableName: 'pr-7-global',
  stack: STACK,
  logicalId: 'GlobalTable89F068B2',
  resourceType: 'AWS::DynamoDB::GlobalTable',
  replicaRegions: ['us-west-2', 'us-east-1']
})

function candidate(overrides: Partial<ImportCandidate> = {}): ImportCandidate {
  return { tableName: 'pr-7-global', spec: globalSpec, live: globalLive(), region: 'us-east-1', ...overrides }
}

function run(table: ImportCandidate) {
  return executeImports(
    { cloudformation: client },
    {
      stack: { name: STACK, region: 'us-east-1', exists: false },
      stackName: STACK,
      tables: [table],
      dryRun: false,
      artifactDir,
      logger: { info: () => {}, warning: () => {}, debug: () => {} },
      clock: { now: () => NOW, sleep: async () => {} },
      limits: { pollMs: 1_000, changeSetMaxWaitMs: 60_000, importMaxWaitMs: 60_000 }
    }
  )
}

function givenImportSucceeds(): void {
  cfn
    .on(CreateChangeSetCommand, { StackName: STACK, ChangeSetName: CHANGE_SET_NAME, ChangeSetType: 'IMPORT' })
    .resolves({ Id: CHANGE_SET_ARN, StackId: NEW_STACK_ID })
  cfn
    .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN })
    .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' })
  cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
  cfn.on(DescribeStacksCommand, { StackName: NEW_STACK_ID }).resolves({
    Stacks: [
      { StackName: STACK, StackId: NEW_STACK_ID, StackStatus: 'IMPORT_COMPLETE', CreationTime: new Date(NOW) }
    ]
  })
  cfn.on(ListStackResourcesCommand, { StackName: NEW_STACK_ID }).resolves({
    StackResourceSummaries: [
      {
        LogicalResourceId: 'GlobalTable89F068B2',
        PhysicalResourceId: 'pr-7-global',
        ResourceType: 'AWS::DynamoDB::GlobalTable',
        ResourceStatus: 'IMPORT_COMPLETE',
        LastUpdatedTimestamp: new Date(NOW)
      }
    ]
  })
}

function request(): CreateChangeSetCommandInput {
  const calls = cfn.commandCalls(CreateChangeSetCommand)
  expect(calls).toHaveLength(1)
  return calls[0]!.args[0].input
}

describe('importing a global table whose replicas match the template', () => {
  it('imports it as an AWS::DynamoDB::GlobalTable identified by TableName, and confirms the stack owns it', async () => {
    givenImportSucceeds()
    const result = await run(candidate())
    expect(result.outcome).toBe('resolved')
    expect(request().ResourcesToImport).toEqual([
      {
        ResourceType: 'AWS::DynamoDB::GlobalTable',
        LogicalResourceId: 'GlobalTable89F068B2',
        ResourceIdentifier: { TableName: 'pr-7-global' }
      }
    ])
  })

  it("lists every replica in the template's order, each with its own live settings", async () => {
    givenImportSucceeds()
    await run(candidate())
    const template = JSON.parse(request().TemplateBody ?? 'null') as CfnTemplate
    const resource = template.Resources?.GlobalTable89F068B2
    expect(resource?.Type).toBe('AWS::DynamoDB::GlobalTable')
    expect(resource?.DeletionPolicy).toBe('Retain')
    expect(resource?.Properties).toEqual({
      TableName: 'pr-7-global',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'N' }
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' }
          ],
          Projection: { ProjectionType: 'ALL' }
        }
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        {
          Region: 'us-west-2',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
          DeletionProtectionEnabled: true,
          TableClass: 'STANDARD',
          Tags: [{ Key: 'region', Value: 'west' }],
          SSESpecification: { KMSMasterKeyId: 'arn:aws:kms:us-west-2:123456789012:key/west' }
        },
        {
          Region: 'us-east-1',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: false,
          TableClass: 'STANDARD',
          Tags: [
            { Key: 'env', Value: 'pr-5' },
            { Key: 'team', Value: 'payments' }
          ],
          SSESpecification: { KMSMasterKeyId: 'arn:aws:kms:us-east-1:123456789012:key/east' }
        }
      ]
    })
  })

  it('imports a single-region table as a one-replica GlobalTable when the template lists only its region', async () => {
    givenImportSucceeds()
    const single = globalLive({ globalTable: undefined, stream: { enabled: false } })
    const result = await run(
      candidate({ live: single, spec: { ...globalSpec, replicaRegions: ['us-east-1'] } })
    )
    expect(result.outcome).toBe('resolved')
    const template = JSON.parse(request().TemplateBody ?? 'null') as CfnTemplate
    const replicas = template.Resources?.GlobalTable89F068B2?.Properties?.Replicas as { Region: string }[]
    expect(replicas.map(r => r.Region)).toEqual(['us-east-1'])
  })
})

describe('refused before any CloudFormation call', () => {
  it.each<[string, Partial<ImportCandidate>, RegExp]>([
    [
      'a legacy (2017.11.29) global table',
      { live: globalLive({ globalTable: { version: '2017.11.29', regions: ['us-east-1', 'us-west-2'] } }) },
      /version 2017\.11\.29 global table; AWS::DynamoDB::GlobalTable holds version 2019\.11\.21 tables only/
    ],
    [
      'a provisioned global table',
      { live: globalLive({ billingMode: 'PROVISIONED', throughput: { read: 5, write: 5 } }) },
      /PROVISIONED global table/
    ],
    [
      'a replica set that is not the template one',
      { spec: { ...globalSpec, replicaRegions: ['us-east-1', 'eu-west-1'] } },
      /the template's replica regions \(eu-west-1, us-east-1\) are not its live ones \(us-east-1, us-west-2\)/
    ],
    [
      'a replica that was not read',
      {
        live: globalLive({
          globalTable: { version: '2019.11.21', regions: ['us-east-1', 'us-west-2'], replicas: {} }
        })
      },
      /the replica in us-west-2 could not be read/
    ]
  ])('%s', async (_case, override, reason) => {
    const result = await run(candidate(override))
    expect(result.outcome).toBe('blocked')
    expect(result.reasons.join(' ')).toMatch(reason)
    expect(cfn.calls()).toHaveLength(0)
  })
})

describe('liveGlobalTableProperties', () => {
  it('keeps table-wide settings at the top and per-replica ones under Replicas (no top-level PITR, tags or protection)', () => {
    const props = liveGlobalTableProperties(globalLive(), 'us-east-1', ['us-east-1', 'us-west-2'])
    for (const key of ['PointInTimeRecoverySpecification', 'DeletionProtectionEnabled', 'Tags', 'TableClass'])
      expect(Object.keys(props)).not.toContain(key)
    expect((props.Replicas as { Region: string }[]).map(r => r.Region)).toEqual(['us-east-1', 'us-west-2'])
  })

  it('throws an ImportRefusal, not a crash, for what it cannot state', () => {
    expect(() =>
      liveGlobalTableProperties(globalLive({ billingMode: 'PROVISIONED' }), 'us-east-1', [
        'us-east-1',
        'us-west-2'
      ])
    ).toThrow(ImportRefusal)
  })
})
