/**
 * The adoption step of the server-side path against CloudFormation's real answers, which no
 * emulator gives: DynamoDB and S3 are moto's (the table ImportTable created, the set's folder),
 * CloudFormation is an aws-sdk-client-mock client answering by request, with AWS's own texts. A
 * rolled-back import must leave the table verified, its restore recorded, and the next run able to
 * adopt it without a second ImportTable (the tag says so); the message must say not to deploy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListStackResourcesCommand
} from '@aws-sdk/client-cloudformation'
import { DescribeTableCommand, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import type { AwsClients } from '../../src/aws/clients.js'
import { headObject } from '../../src/aws/s3.js'
import { digestTable } from '../../src/data/verify.js'
import type { BackupManifest } from '../../src/data/manifest.js'
import { OperationError } from '../../src/errors.js'
import { StepLog } from '../../src/execute/steps.js'
import { verifyRecordAdopt, type ServerSideInput, type ServerSideSet } from '../../src/execute/server-side.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import {
  BACKUP_BUCKET,
  createBackupBucket,
  fakeTime,
  quietLogger,
  workspace,
  type Workspace
} from '../../test-support/execution.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import { finding, stackState, tableSpec } from '../../test-support/builders.js'

const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
const STACK_ID = `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK}/0b6f1a30-8c8e-11ef-9d7b-0a1b2c3d4e5f`
const CHANGE_SET = `arn:aws:cloudformation:us-east-1:123456789012:changeSet/orphan-guard-import-x/4f1e2d3c`
const FOLDER = `${BACKUP_BUCKET.prefix}/pr-7/${TABLE}/20250304T050607Z/`

let moto: MotoServer
let clients: AwsClients
let ws: Workspace
const cfnClient = new CloudFormationClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
})
const cfn = mockClient(cfnClient)

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  destroyClients(clients)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  cfn.reset()
  await createBackupBucket(clients)
  ws = workspace(tableTemplate({ tableName: TABLE, logicalId: 'Orders' }))
})

async function setOf(): Promise<ServerSideSet> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(12) })
  const content = await digestTable(clients.dynamodb, { table: TABLE })
  const manifest = {
    itemCount: content.itemCount,
    contentDigest: { algorithm: content.algorithm, value: content.contentDigest },
    startedAt: '2025-03-04T05:06:07.000Z',
    serverSide: {
      source: 'streamed-export',
      bucket: BACKUP_BUCKET.bucket,
      dataPrefix: `${FOLDER}data/`,
      items: 12
    }
  } as unknown as BackupManifest
  return {
    table: TABLE,
    timestamp: '20250304T050607Z',
    bucket: BACKUP_BUCKET.bucket,
    folder: FOLDER,
    manifest,
    manifestUri: `s3://${BACKUP_BUCKET.bucket}/${FOLDER}manifest.json`,
    localDir: null,
    backupArn: null
  }
}

function input(steps: StepLog): ServerSideInput {
  const time = fakeTime()
  const spec = tableSpec({
    tableName: TABLE,
    stack: STACK,
    logicalId: 'Orders',
    properties: tableTemplate({ tableName: TABLE }).Resources?.MainTable?.Properties ?? {}
  })
  return {
    finding: finding({
      spec,
      tableName: TABLE,
      region: 'us-east-1',
      stack: stackState({ name: STACK, exists: false })
    }),
    stage: 'pr-7',
    policy: { stage: 'pr-7', strategy: 'backup-restore', protectedStage: false, allowDataLoss: false },
    backupDir: ws.backupDir,
    awsBackup: false,
    s3Bucket: BACKUP_BUCKET,
    identity: null,
    dryRun: false,
    logger: quietLogger,
    steps,
    wait: { ...time, maxWaitMs: 60_000, pollMs: 1_000 },
    record: { manifest: () => undefined, arn: () => undefined, dropArn: () => undefined },
    owedGuard: {
      stage: 'pr-7',
      account: null,
      s3Bucket: BACKUP_BUCKET,
      s3: clients.s3
    }
  }
}

describe('adopting the table ImportTable created, against CloudFormation contract answers', () => {
  it('an import that rolls back: the table stays verified (its tag), the restore stays owed (not recorded), the error says not to deploy, and no second ImportTable is planned', async () => {
    const set = await setOf()
    const reason = "Resource with identifier 'pr-7-orders' is already managed by stack pr-7-api"
    cfn
      .on(DescribeStacksCommand, { StackName: STACK })
      .rejects(Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }))
    cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET, StackId: STACK_ID })
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' })
    cfn.on(ExecuteChangeSetCommand).resolves({})
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolvesOnce({
        Stacks: [
          { StackName: STACK, StackId: STACK_ID, StackStatus: 'IMPORT_IN_PROGRESS', CreationTime: new Date() }
        ]
      })
      .resolves({
        Stacks: [
          {
            StackName: STACK,
            StackId: STACK_ID,
            StackStatus: 'IMPORT_ROLLBACK_COMPLETE',
            CreationTime: new Date()
          }
        ]
      })
    cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          StackId: STACK_ID,
          EventId: '2',
          StackName: STACK,
          LogicalResourceId: 'Orders',
          ResourceType: 'AWS::DynamoDB::Table',
          ResourceStatus: 'IMPORT_FAILED',
          ResourceStatusReason: reason,
          Timestamp: new Date()
        }
      ]
    })
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] })
    const steps = new StepLog(() => undefined)
    const mixed: AwsClients = { ...clients, cloudformation: cfnClient }

    const attempt = verifyRecordAdopt(mixed, input(steps), set, {
      arn: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}/import/01`,
      status: 'COMPLETED',
      tableArn: null,
      importedItems: 12,
      processedItems: 12,
      errorCount: 0,
      failure: null,
      startTime: null,
      endTime: null,
      logGroupArn: null
    })

    await expect(attempt).rejects.toThrow(OperationError)
    const err = (await attempt.catch((e: unknown) => e)) as OperationError
    expect(err.message).toBe(
      `${TABLE} was re-created by ImportTable and verified, but it could not be imported into stack ${STACK}: the import into ${STACK} ended IMPORT_ROLLBACK_COMPLETE: ${reason}`
    )
    expect(err.state).toMatch(/do not deploy yet \(the deploy would fail on it\)/)
    expect(err.state).toMatch(
      /Run the action again: it imports the table into its stack \(never a second ImportTable, nor a second scan\)/
    )
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, {
      StackName: STACK,
      ChangeSetType: 'IMPORT',
      ResourcesToImport: [
        {
          ResourceType: 'AWS::DynamoDB::Table',
          LogicalResourceId: 'Orders',
          ResourceIdentifier: { TableName: TABLE }
        }
      ]
    })
    // Verified before the change set (the next run adopts it without scanning it again), but the
    // restore is recorded only once the stack holds the table: it stays owed from the S3 copy.
    const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableArn
    const tags = (await clients.dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags ?? []
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'dynamodb-orphan-guard:created-by-import', Value: 'pr-7/20250304T050607Z' }
      ])
    )
    expect(tags.map(t => t.Key)).not.toContain('dynamodb-orphan-guard:restored-from')
    expect(await headObject(clients.s3, BACKUP_BUCKET.bucket, `${FOLDER}restored.json`)).toBeNull()
    expect(err.state).toMatch(/its restore is owed from that copy/)
    expect(steps.steps.map(s => `${s.action} ${s.status}`)).toEqual(['verify import done', 'import failed'])
    ws.remove()
  }, 60_000)
})
