/**
 * The bundle, copy-mode server-side, against moto behind a recording proxy: a table with data whose
 * template changes the key schema is copied to S3, deleted, re-created by ImportTable with the new
 * keys, verified, and adopted into its stack, all before the deploy; no item is written by the
 * runner (no BatchWriteItem on the wire).
 *
 * How the adoption is proven: moto fakes IMPORT change sets (it ignores ResourcesToImport and tries
 * to create the table), so the proxy's import stand-in plays CloudFormation's side with its
 * documented answers, and the test checks the exact CreateChangeSet and ExecuteChangeSet requests
 * the bundle sent (ChangeSetType IMPORT, ResourcesToImport naming the table, the template holding
 * it with its new keys). How the action handles CloudFormation's real answers (failures,
 * rollbacks, time limits) is pinned by the contract tests in __tests__/execute/import*.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { tableContent } from '../../test-support/execution.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, tableTemplate, type Item } from '../../test-support/orphans.js'
import { startRecordingProxy, type RecordingProxy } from '../../test-support/recording-proxy.js'
import { runBundle, type BundleRun } from '../../test-support/run-bundle.js'

const STAGE = 'pr-7'
const STACK = 'pr-7-db'
const BUCKET = 'preview-backups'
const TABLE = 'pr-7-orders'
const ITEMS = 120

/** The live table is keyed pk (S) + sk (S); the template moves the sort key to n (N) and adds a GSI. */
const template = tableTemplate({
  tableName: TABLE,
  logicalId: 'Orders',
  deletionPolicy: 'Retain',
  keys: { partition: { name: 'pk', type: 'S' }, sort: { name: 'n', type: 'N' } },
  properties: {
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'n', AttributeType: 'N' },
      { AttributeName: 'customer', AttributeType: 'S' }
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byCustomer',
        KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' }
      }
    ]
  }
})

const items: Item[] = Array.from({ length: ITEMS }, (_, i) => ({
  pk: { S: `order-${i}` },
  sk: { S: 'v1' },
  n: { N: String(i) },
  customer: { S: `c-${i % 9}` },
  note: { S: 'x'.repeat(i % 50) }
}))

let moto: MotoServer
let proxy: RecordingProxy
let clients: AwsClients
let workspace: string
let before: string[] | null

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
}, 60_000)

afterAll(async () => {
  destroyClients(clients)
  await proxy?.stop()
  await moto?.stop()
})

beforeEach(async () => {
  await moto.reset()
  await proxy?.stop()
  proxy = await startRecordingProxy(moto.endpoint, { importStandIn: true })
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items })
  before = await tableContent(clients, TABLE)
  if (workspace) rmSync(workspace, { recursive: true, force: true })
  workspace = mkdtempSync(join(tmpdir(), 'orphan-guard-server-side-'))
  mkdirSync(join(workspace, 'infra'))
  writeFileSync(join(workspace, 'infra', 'db.template.json'), JSON.stringify(template, null, 2))
})

function run(
  signalWhen?: { pattern: RegExp; signal: NodeJS.Signals },
  strategy = 'auto'
): Promise<BundleRun> {
  return runBundle({
    inputs: {
      stage: STAGE,
      strategy,
      template: 'infra/db.template.json',
      'stack-name': STACK,
      's3-bucket': `${BUCKET}/orphan-guard`,
      'copy-mode': 'server-side',
      comment: 'false'
    },
    awsEndpoint: proxy.endpoint,
    workspace,
    signalWhen,
    timeoutMs: 150_000
  })
}

const ops = (from = 0): string[] => proxy.calls.slice(from).map(c => c.operation)
const bodyOf = (op: string): Record<string, unknown> =>
  JSON.parse(proxy.calls.find(c => c.operation === op)?.body ?? '{}') as Record<string, unknown>

describe('copy-mode server-side, end to end with the bundle', () => {
  it('re-creates the table by ImportTable with the new keys, adopts it into its stack, identical content, no BatchWriteItem', async () => {
    const r = await run()

    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('resolved')
    expect(r.outputs['restored-items']).toBe(String(ITEMS))
    // Nothing is owed: the restore is recorded in AWS once the stack holds the table.
    expect([r.outputs['restore-needed'], r.outputs['pending-restores']]).toEqual(['false', '[]'])
    const plan = JSON.parse(r.outputs.plan ?? '[]') as Array<{
      table: string
      decision: string
      copy: string
    }>
    expect(plan.find(p => p.table === TABLE)).toMatchObject({
      decision: 'backup-restore',
      copy: 'server-side'
    })
    expect(JSON.parse(r.outputs['backup-arns'] ?? '[]')).toHaveLength(1) // the on-demand backup (aws-backup)

    // No item written by the runner; ImportTable created the table from the copy's data files.
    expect(ops()).not.toContain('DynamoDB.BatchWriteItem')
    expect(ops()).not.toContain('DynamoDB.PutItem')
    const importTable = bodyOf('DynamoDB.ImportTable') as {
      S3BucketSource: { S3Bucket: string; S3KeyPrefix: string }
      InputFormat: string
      InputCompressionType: string
      TableCreationParameters: Record<string, unknown>
    }
    expect(importTable.S3BucketSource.S3Bucket).toBe(BUCKET)
    expect(importTable.S3BucketSource.S3KeyPrefix).toMatch(
      /^orphan-guard\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/data\/$/
    )
    expect([importTable.InputFormat, importTable.InputCompressionType]).toEqual(['DYNAMODB_JSON', 'GZIP'])
    expect(importTable.TableCreationParameters).toMatchObject({
      TableName: TABLE,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' }
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [{ IndexName: 'byCustomer' }]
    })
    const described = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table
    expect(described?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'n', KeyType: 'RANGE' }
    ])
    expect(await tableContent(clients, TABLE)).toEqual(before)

    // The adoption: the exact IMPORT change set requests, after ImportTable and the verification.
    expect(proxy.imports).toHaveLength(1)
    const [change] = proxy.imports
    expect(change?.request).toMatchObject({
      Action: 'CreateChangeSet',
      StackName: STACK,
      ChangeSetType: 'IMPORT',
      'ResourcesToImport.member.1.LogicalResourceId': 'Orders',
      'ResourcesToImport.member.1.ResourceType': 'AWS::DynamoDB::Table',
      'ResourcesToImport.member.1.ResourceIdentifier.entry.1.key': 'TableName',
      'ResourcesToImport.member.1.ResourceIdentifier.entry.1.value': TABLE
    })
    const resource = (
      change?.template as {
        Resources: Record<string, { DeletionPolicy: string; Properties: Record<string, unknown> }>
      }
    ).Resources.Orders
    expect(resource?.DeletionPolicy).toBe('Retain')
    expect(resource?.Properties.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'n', KeyType: 'RANGE' }
    ])
    expect(change?.executed).toBe(true)
    const order = ops()
    const at = (op: string) => order.indexOf(op)
    expect(at('DynamoDB.DeleteTable')).toBeLessThan(at('DynamoDB.ImportTable'))
    expect(at('DynamoDB.ImportTable')).toBeLessThan(at('CloudFormation.CreateChangeSet'))
    expect(order.lastIndexOf('DynamoDB.Scan')).toBeLessThan(at('CloudFormation.CreateChangeSet'))
    expect(at('CloudFormation.CreateChangeSet')).toBeLessThan(at('CloudFormation.ExecuteChangeSet'))

    // The summary: the path in the reasons, each step with the time it took.
    expect(r.summary).toMatch(/Copy path: server-side \(copy-mode server-side\)/)
    expect(r.summary).toContain('| Status | Table | Action | Took | Detail |')
    expect(r.summary).toMatch(/\| ✅ done \| `pr-7-orders` \| import table \| [\d.]+ (s|min)/)
    expect(r.summary).toMatch(/Restored \*\*120 items\*\* by ImportTable before the deploy/)

    // The next run: the table is in its stack, nothing to do.
    const again = await run()
    expect([again.code, again.outputs.outcome]).toEqual([0, 'nothing-to-do'])
  }, 300_000)

  it('a run killed after ImportTable and before the change set: the next run adopts the table it created, no second import', async () => {
    const killed = await run({ pattern: /pr-7-orders: import table done/, signal: 'SIGKILL' })
    expect(killed.signalled).toBe('SIGKILL')
    expect(ops().filter(op => op === 'DynamoDB.ImportTable')).toHaveLength(1)
    expect(proxy.imports).toEqual([])

    // Between the runs, the restore is owed from the S3 copy (any run, a report too, says so).
    const report = await run(undefined, 'report')
    expect(report.outputs['restore-needed']).toBe('true')
    expect(JSON.parse(report.outputs['pending-restores'] ?? '[]')).toEqual([
      expect.objectContaining({
        table: TABLE,
        source: 's3',
        backup: expect.stringMatching(
          /^s3:\/\/preview-backups\/orphan-guard\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/manifest\.json$/
        )
      })
    ])

    const mark = proxy.calls.length
    const r = await run()

    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('resolved')
    expect([r.outputs['restore-needed'], r.outputs['restored-items']]).toEqual(['false', String(ITEMS)])
    expect(ops(mark)).not.toContain('DynamoDB.ImportTable')
    expect(ops(mark)).not.toContain('DynamoDB.DeleteTable')
    expect(ops(mark)).not.toContain('DynamoDB.BatchWriteItem')
    expect(proxy.imports.map(i => i.resources)).toEqual([
      [{ logicalId: 'Orders', type: 'AWS::DynamoDB::Table', physicalId: TABLE }]
    ])
    expect(r.summary).toMatch(/its server-side restore is unfinished: the import .* created it/)
    expect(await tableContent(clients, TABLE)).toEqual(before)
    // The import template the report lists is the one sent.
    const artifact = JSON.parse(readFileSync(join(workspace, 'backups', `import-${STACK}.json`), 'utf8')) as {
      resourcesToImport: unknown[]
    }
    expect(artifact.resourcesToImport).toHaveLength(1)
  }, 300_000)
})
