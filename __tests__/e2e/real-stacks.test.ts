/**
 * End to end: the committed dist/index.js against moto (which keeps regions apart on one port),
 * behind a recording proxy that notes the region each request was signed for and answers for a
 * global table as DynamoDB does (moto never reports Replicas). The template is the real `cdk synth`
 * output of __fixtures__/cdk-app/bin/real-stacks.mjs: stacks pinned to us-east-1 and us-west-2, one
 * for another account, an environment-agnostic one whose names use AWS::AccountId, a global table,
 * and a table named from a stack parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CreateTableCommand, DescribeTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb'
import { CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { makeUnmanagedTable, type Item } from '../../test-support/orphans.js'
import {
  isReadOnlyOperation,
  startRecordingProxy,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
import { REPO_ROOT, runBundle, type BundleRun } from '../../test-support/run-bundle.js'
import type { AwsClients } from '../../src/aws/clients.js'

const CDK_OUT = join(REPO_ROOT, '__fixtures__', 'cdk-out-real-stacks-pr-7')
const MOTO_ACCOUNT = '123456789012'
const WEST_TABLE = 'pr-7-west-events'
const CACHE_TABLE = `pr-7-cache-${MOTO_ACCOUNT}-us-east-1`
const GLOBAL_TABLE = 'pr-7-global'
const LARGE_TABLE = 'pr-7-large-table'
const BOOTSTRAP_BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1'

/**
 * The pr-7-large stack as deployed before its table was retained: the synthesized template (77,792
 * bytes; 56 KB compact) without the table, whose name and ARN its functions' settings then hold as text.
 */
function largeStackWithoutTable(): string {
  const template = JSON.parse(readFileSync(join(CDK_OUT, 'pr-7-large.template.json'), 'utf8')) as {
    Resources: Record<string, unknown>
  }
  delete template.Resources.LargeTableDAC510D1
  return JSON.stringify(template)
    .replace(/\{"Ref":"LargeTableDAC510D1"\}/g, `"${LARGE_TABLE}"`)
    .replace(
      /\{"Fn::GetAtt":\["LargeTableDAC510D1","Arn"\]\}/g,
      `"arn:aws:dynamodb:us-east-1:${MOTO_ACCOUNT}:table/${LARGE_TABLE}"`
    )
}

/** The CDK bootstrap version parameter that every CDK template resolves (moto's SSM, through its JSON API). */
async function putBootstrapVersion(endpoint: string): Promise<void> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonSSM.PutParameter',
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=0'
    },
    body: JSON.stringify({ Name: '/cdk-bootstrap/hnb659fds/version', Value: '26', Type: 'String' })
  })
  if (!res.ok) throw new Error(`SSM PutParameter: HTTP ${res.status}`)
}

let moto: MotoServer
let proxy: RecordingProxy
let east: AwsClients
let west: AwsClients
let workspace: string

/** Items that carry pk and sk, so they fit the template's keys (pk, sk) as well as the live ones (pk). */
const westItems: Item[] = Array.from({ length: 12 }, (_, i) => ({
  pk: { S: `event#${i}` },
  sk: { S: `at#${1000 + i}` },
  n: { N: String(i) }
}))

async function count(clients: AwsClients, table: string): Promise<number | null> {
  try {
    await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))
  } catch {
    return null
  }
  const out = await clients.dynamodb.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))
  return out.Count ?? 0
}

function run(inputs: Record<string, string>): Promise<BundleRun> {
  return runBundle({
    inputs: { stage: 'pr-7', template: CDK_OUT, comment: 'false', ...inputs },
    awsEndpoint: proxy.endpoint,
    workspace,
    timeoutMs: 120_000
  })
}

interface PlanObject {
  table: string
  region: string | null
  stack: string | null
  exists: boolean | null
  decision: string
  reasons: string[]
}

function planOf(r: BundleRun): Record<string, PlanObject> {
  const entries = JSON.parse(r.outputs.plan ?? '[]') as PlanObject[]
  return Object.fromEntries(entries.map(e => [e.table, e]))
}

function warnings(r: BundleRun): string[] {
  return r.stdout.split('\n').filter(l => l.startsWith('::warning'))
}

beforeAll(async () => {
  moto = await startMoto()
  proxy = await startRecordingProxy(moto.endpoint, {
    globalTables: { [GLOBAL_TABLE]: { regions: ['us-east-1', 'us-west-2'] } }
  })
  east = testClients(moto.endpoint, { region: 'us-east-1' })
  west = testClients(moto.endpoint, { region: 'us-west-2' })
  workspace = mkdtempSync(join(tmpdir(), 'orphan-guard-real-stacks-'))

  // us-west-2: the west stack's table survived with data, keyed on pk alone (the template adds sk).
  await makeUnmanagedTable(west.dynamodb, {
    tableName: WEST_TABLE,
    keys: { partition: { name: 'pk', type: 'S' } },
    items: westItems
  })
  // us-east-1: a namesake of it that must never be looked at for the west stack (it would be importable).
  await makeUnmanagedTable(east.dynamodb, { tableName: WEST_TABLE, items: westItems.slice(0, 3) })
  // A namesake of the other account's table, in the credentials' account: never checked, never touched.
  await makeUnmanagedTable(east.dynamodb, {
    tableName: 'pr-7-foreign',
    keys: { partition: { name: 'pk', type: 'S' } },
    items: [{ pk: { S: 'keep-me' } }]
  })
  // The environment-agnostic stack's cache table, named over AWS::AccountId and AWS::Region: empty.
  await makeUnmanagedTable(east.dynamodb, {
    tableName: CACHE_TABLE,
    keys: { partition: { name: 'pk', type: 'S' } }
  })
  // The global table, with its replica in us-west-2, both holding data (the proxy reports the replicas).
  for (const clients of [east, west]) {
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: GLOBAL_TABLE,
      stream: 'NEW_AND_OLD_IMAGES',
      items: [{ pk: { S: 'g' }, sk: { S: '1' } }]
    })
  }
  // The large stack is deployed (its template is far over 51,200 bytes); its table was retained and holds data.
  await putBootstrapVersion(moto.endpoint)
  const created = await east.cloudformation.send(
    new CreateStackCommand({
      StackName: 'pr-7-large',
      TemplateBody: largeStackWithoutTable(),
      Capabilities: ['CAPABILITY_IAM']
    })
  )
  for (let i = 0; ; i++) {
    const status = (await east.cloudformation.send(new DescribeStacksCommand({ StackName: created.StackId })))
      .Stacks?.[0]?.StackStatus
    if (status === 'CREATE_COMPLETE') break
    if (i > 100 || !status?.endsWith('_IN_PROGRESS')) throw new Error(`pr-7-large is ${status}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await makeUnmanagedTable(east.dynamodb, { tableName: LARGE_TABLE, items: westItems.slice(0, 2) })
  for (const bucket of [BOOTSTRAP_BUCKET, 'pr-7-copies'])
    await east.s3.send(new CreateBucketCommand({ Bucket: bucket }))
}, 120_000)

afterAll(async () => {
  if (east) destroyClients(east)
  if (west) destroyClients(west)
  await proxy?.stop()
  await moto?.stop()
  if (workspace) rmSync(workspace, { recursive: true, force: true })
})

describe('report mode over the whole cloud assembly', () => {
  let report: BundleRun

  beforeAll(async () => {
    proxy.calls.length = 0
    report = await run({ strategy: 'report' })
  }, 180_000)

  it('exits 0 and changes nothing', () => {
    expect([report.code, report.errors]).toEqual([0, []])
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
  })

  it('finds the orphan of the us-west-2 stack in us-west-2, and asks nothing about it in us-east-1', () => {
    expect(planOf(report)[WEST_TABLE]).toMatchObject({
      region: 'us-west-2',
      stack: 'pr-7-west',
      exists: true,
      decision: 'backup-restore'
    })
    const about = proxy.calls.filter(c => c.target === WEST_TABLE)
    expect(about.length).toBeGreaterThan(0)
    expect([...new Set(about.map(c => c.region))]).toEqual(['us-west-2'])
  })

  it('reports the stack for another account as not checkable, with a warning, and never touches its namesake', () => {
    const foreign = planOf(report)['pr-7-foreign']
    expect(foreign).toMatchObject({ region: 'us-east-1', exists: null, decision: 'blocked' })
    expect(foreign?.reasons.join(' ')).toMatch(
      /stack pr-7-other-account is for account 999999999999, but these credentials are for account 123456789012/
    )
    expect(warnings(report).some(w => w.includes('pr-7-foreign'))).toBe(true)
    expect(
      proxy.calls.filter(c => c.body.includes('pr-7-foreign') || c.target?.includes('pr-7-foreign'))
    ).toEqual([])
  })

  it('resolves names over AWS::AccountId through STS and finds the tables', () => {
    expect(proxy.calls.some(c => c.operation === 'STS.GetCallerIdentity')).toBe(true)
    expect(planOf(report)[CACHE_TABLE]).toMatchObject({
      stack: 'pr-7-agnostic',
      region: 'us-east-1',
      exists: true,
      decision: 'delete'
    })
    expect(planOf(report)[`pr-7-agnostic-sub-${MOTO_ACCOUNT}`]).toMatchObject({
      exists: false,
      decision: 'none'
    })
  })

  it('reports the global table with its replica regions and would import it', () => {
    const global = planOf(report)[GLOBAL_TABLE]
    expect(global).toMatchObject({ region: 'us-east-1', exists: true, decision: 'import' })
    expect(global?.reasons).toContain(
      'Table pr-7-global is a replica of a global table (version 2019.11.21) with replicas in us-east-1, us-west-2.'
    )
  })

  it('lists the parameter-named table with its expression as a warning, without failing', () => {
    expect(report.outputs.outcome).toBe('blocked')
    expect(warnings(report).join('\n')).toContain('{"Fn::Join":["",["pr-7-param-",{"Ref":"TableSuffix"}]]}')
    expect(report.summary).toContain('`{"Fn::Join":["",["pr-7-param-",{"Ref":"TableSuffix"}]]}`')
  })
})

describe('a run that acts, over the whole cloud assembly', () => {
  it('fails the step on the unresolvable name (with its expression) and the other account, changing nothing', async () => {
    proxy.calls.length = 0
    const r = await run({ strategy: 'auto' })
    expect(r.code).toBe(1)
    expect(r.outputs.outcome).toBe('blocked')
    const error = r.errors.join('\n')
    expect(error).toContain(
      'pr-7-param/ParamTableCBA335F5: TableName {"Fn::Join":["",["pr-7-param-",{"Ref":"TableSuffix"}]]}'
    )
    expect(error).toContain('Ref TableSuffix: a parameter or resource, only known at deploy time')
    expect(error).toContain('pr-7-foreign (us-east-1)')
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
    expect(await count(west, WEST_TABLE)).toBe(westItems.length)
  }, 180_000)
})

describe('resolving the us-west-2 orphan and the account-named table', () => {
  let pre: BundleRun

  beforeAll(async () => {
    proxy.calls.length = 0
    pre = await run({ strategy: 'auto', tables: `${WEST_TABLE}, ${CACHE_TABLE}` })
  }, 180_000)

  it('backs the us-west-2 orphan up and deletes it there, and deletes the empty account-named table', async () => {
    expect([pre.code, pre.errors]).toEqual([0, []])
    expect(pre.outputs.outcome).toBe('resolved')
    expect(planOf(pre)[WEST_TABLE]).toMatchObject({ region: 'us-west-2', decision: 'backup-restore' })
    expect(planOf(pre)[CACHE_TABLE]).toMatchObject({ region: 'us-east-1', decision: 'delete' })
    expect(await count(west, WEST_TABLE)).toBeNull()
    expect(await count(east, CACHE_TABLE)).toBeNull()
  })

  it('makes every call about the us-west-2 table in us-west-2, and leaves its us-east-1 namesake alone', async () => {
    const about = proxy.calls.filter(c => c.target === WEST_TABLE)
    expect(about.map(c => c.operation)).toEqual(
      expect.arrayContaining(['DynamoDB.CreateBackup', 'DynamoDB.Scan', 'DynamoDB.DeleteTable'])
    )
    expect([...new Set(about.map(c => c.region))]).toEqual(['us-west-2'])
    expect(await count(east, WEST_TABLE)).toBe(3)
    const cache = proxy.calls.filter(c => c.target === CACHE_TABLE)
    expect([...new Set(cache.map(c => c.region))]).toEqual(['us-east-1'])
  })

  it('records the region in the backup manifest', () => {
    const manifests = JSON.parse(pre.outputs['backup-manifests'] ?? '[]') as string[]
    expect(manifests).toHaveLength(1)
    const manifest = JSON.parse(readFileSync(manifests[0]!, 'utf8')) as {
      table: { name: string; region: string }
    }
    expect(manifest.table).toMatchObject({ name: WEST_TABLE, region: 'us-west-2' })
  })

  it('restores into the table the deploy re-creates in us-west-2', async () => {
    // The deploy: CloudFormation creates the table from the template (pk, sk) in the stack's region.
    await west.dynamodb.send(
      new CreateTableCommand({
        TableName: WEST_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' }
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' }
        ]
      })
    )
    proxy.calls.length = 0
    const restore = await run({ phase: 'restore', tables: WEST_TABLE })
    expect([restore.code, restore.errors]).toEqual([0, []])
    expect(restore.outputs.outcome).toBe('restored')
    expect(restore.outputs['restored-items']).toBe(String(westItems.length))
    expect(await count(west, WEST_TABLE)).toBe(westItems.length)
    expect(await count(east, WEST_TABLE)).toBe(3)
    const writes = proxy.calls.filter(c => c.operation === 'DynamoDB.BatchWriteItem')
    expect(writes.length).toBeGreaterThan(0)
    expect([...new Set(writes.map(c => c.region))]).toEqual(['us-west-2'])
  })
})

describe('a global table with replicas', () => {
  it('is never deleted, whatever the strategy says', async () => {
    proxy.calls.length = 0
    const r = await run({ strategy: 'delete', 'allow-data-loss': 'true', tables: GLOBAL_TABLE })
    expect(r.code).toBe(1)
    expect(r.outputs.outcome).toBe('blocked')
    expect(r.errors.join('\n')).toMatch(/never deletes or re-creates a replicated table/)
    expect(proxy.operations()).not.toContain('DynamoDB.DeleteTable')
    expect(proxy.operations()).not.toContain('DynamoDB.CreateBackup')
    expect(await count(east, GLOBAL_TABLE)).toBe(1)
    expect(await count(west, GLOBAL_TABLE)).toBe(1)
  }, 180_000)

  it('is imported as an AWS::DynamoDB::GlobalTable listing its replicas when the template matches (dry run)', async () => {
    proxy.calls.length = 0
    const r = await run({
      strategy: 'import',
      'dry-run': 'true',
      tables: GLOBAL_TABLE,
      // The CDK bootstrap execution role, filled in for the stack's account, region and partition.
      'role-arn':
        'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}'
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('dry-run')
    expect(planOf(r)[GLOBAL_TABLE]).toMatchObject({ decision: 'import' })
    const file = join(workspace, 'backups', 'import-pr-7-east.json')
    expect(existsSync(file)).toBe(true)
    const artifact = JSON.parse(readFileSync(file, 'utf8')) as {
      resourcesToImport: unknown[]
      template: {
        Resources: Record<string, { Type: string; Properties: { Replicas: { Region: string }[] } }>
      }
      createChangeSetRequest: { ChangeSetType: string; StackName: string; RoleARN?: string }
    }
    expect(artifact.resourcesToImport).toEqual([
      {
        ResourceType: 'AWS::DynamoDB::GlobalTable',
        LogicalResourceId: 'GlobalTable89F068B2',
        ResourceIdentifier: { TableName: GLOBAL_TABLE }
      }
    ])
    const resource = artifact.template.Resources.GlobalTable89F068B2
    expect(resource?.Type).toBe('AWS::DynamoDB::GlobalTable')
    // The template's order: us-west-2, then us-east-1.
    expect(resource?.Properties.Replicas.map(r => r.Region)).toEqual(['us-west-2', 'us-east-1'])
    expect(artifact.createChangeSetRequest).toMatchObject({
      ChangeSetType: 'IMPORT',
      StackName: 'pr-7-east',
      RoleARN: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1'
    })
    // Nothing was created: a dry run makes no mutating call.
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
    expect(readdirSync(join(workspace, 'backups')).length).toBeGreaterThan(0)
  }, 180_000)
})

describe('a stack whose import template is over 51,200 bytes', () => {
  interface Artifact {
    createChangeSetRequest: Record<string, unknown>
    templateUploadedTo?: { s3: string; via: string; bytes: number }
  }
  const artifact = (): Artifact =>
    JSON.parse(readFileSync(join(workspace, 'backups', 'import-pr-7-large.json'), 'utf8')) as Artifact

  async function objectsUnder(bucket: string): Promise<string[]> {
    const out = await east.s3.send(new ListObjectsV2Command({ Bucket: bucket }))
    return (out.Contents ?? []).map(o => o.Key ?? '')
  }

  it('without s3-bucket: the import goes through the CDK bootstrap bucket the assembly names (dry run)', async () => {
    proxy.calls.length = 0
    const r = await run({ strategy: 'import', 'dry-run': 'true', tables: LARGE_TABLE })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(planOf(r)[LARGE_TABLE]).toMatchObject({ decision: 'import' })
    const { createChangeSetRequest: request, templateUploadedTo } = artifact()
    expect(request.TemplateURL).toMatch(
      new RegExp(
        `^https://${BOOTSTRAP_BUCKET}\\.s3\\.us-east-1\\.amazonaws\\.com/dynamodb-orphan-guard/import-templates/pr-7/pr-7-large/orphan-guard-import-\\d{8}T\\d{9}Z\\.json$`
      )
    )
    expect(request).not.toHaveProperty('TemplateBody')
    expect(templateUploadedTo?.via).toBe('CDK bootstrap assets bucket')
    expect(templateUploadedTo?.bytes).toBeGreaterThan(51_200)
    // It says where the template would go, and a dry run writes nothing to S3.
    expect(r.summary).toContain(
      `s3://${BOOTSTRAP_BUCKET}/dynamodb-orphan-guard/import-templates/pr-7/pr-7-large/`
    )
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
    expect(await objectsUnder(BOOTSTRAP_BUCKET)).toEqual([])
  }, 180_000)

  it('with s3-bucket: the import goes there, under its prefix (dry run)', async () => {
    const r = await run({
      strategy: 'import',
      'dry-run': 'true',
      tables: LARGE_TABLE,
      's3-bucket': 'pr-7-copies/guard'
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(artifact().createChangeSetRequest.TemplateURL).toMatch(
      /^https:\/\/pr-7-copies\.s3\.us-east-1\.amazonaws\.com\/guard\/cloudformation-import-templates\/pr-7\/pr-7-large\//
    )
    expect(artifact().templateUploadedTo?.via).toBe('s3-bucket')
  }, 180_000)

  it('with neither (a single template file names no bootstrap bucket): blocked, naming s3-bucket, no change set', async () => {
    const file = join(workspace, 'pr-7-large.template.json')
    writeFileSync(file, readFileSync(join(CDK_OUT, 'pr-7-large.template.json')))
    proxy.calls.length = 0
    const r = await run({
      strategy: 'import',
      template: file,
      'stack-name': 'pr-7-large',
      tables: LARGE_TABLE
    })
    expect(r.code).toBe(1)
    expect(r.outputs.outcome).toBe('blocked')
    expect(r.errors.join('\n')).toMatch(
      /the template of stack pr-7-large is \d+ bytes, over the 51200 a TemplateBody may hold, and no S3 bucket in us-east-1 is known.*Set the s3-bucket input/
    )
    expect(
      proxy.operations().filter(op => op.startsWith('CloudFormation.') && !isReadOnlyOperation(op))
    ).toEqual([])
    expect(proxy.operations()).not.toContain('CloudFormation.GetTemplate')
  }, 180_000)
})
