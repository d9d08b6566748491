/**
 * An import template over 51,200 bytes goes to S3 and reaches CloudFormation as TemplateURL. S3 is moto's
 * (the object is really written and read back); CloudFormation is mocked by request, since no emulator
 * does IMPORT change sets. The stack is the real-stacks fixture's `pr-7-large` (77,792 bytes as synthesized,
 * 56 KB as compact JSON): its deployed template is the synthesized one without the table, which was
 * retained and is now imported back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListStackResourcesCommand
} from '@aws-sdk/client-cloudformation'
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { discover } from '../../src/discover/discover.js'
import { executeImports, type ExecuteImportsInput } from '../../src/execute/import.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { canonicalJson } from '../../src/execute/import-template.js'
import { planTables } from '../../src/plan/plan.js'
import { getInputs } from '../../src/inputs.js'
import type { AwsClients } from '../../src/aws/clients.js'
import type { CfnTemplate, Check, Finding, StackState, TableSpec } from '../../src/types.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { liveTable } from '../../test-support/builders.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { REPO_ROOT } from '../../test-support/run-bundle.js'
import { renderReport } from '../../src/report/markdown.js'
import { context as reportContext } from '../report/builders.js'

const CDK_OUT = join(REPO_ROOT, '__fixtures__', 'cdk-out-real-stacks-pr-7')
const STACK = 'pr-7-large'
const STACK_ID = `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK}/5a5a5a5a`
const TABLE = 'pr-7-large-table'
const BOOTSTRAP = 'cdk-hnb659fds-assets-123456789012-us-east-1'
const NOW = Date.UTC(2026, 11, 5, 8, 0, 0, 0)
const CHANGE_SET = 'orphan-guard-import-20261205T080000000Z'
const CHANGE_SET_ARN = `arn:aws:cloudformation:us-east-1:123456789012:changeSet/${CHANGE_SET}/1`

let moto: MotoServer
let aws: AwsClients
let dir: string
const cfnClient = new CloudFormationClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
})
const cfn = mockClient(cfnClient)

/** The table as the real cloud assembly declares it (its bootstrap bucket, its stack's template size). */
let spec: TableSpec
/** What GetTemplate answers: the synthesized template of pr-7-large without the retained table. */
let deployed: CfnTemplate
const stack: StackState = {
  name: STACK,
  region: 'us-east-1',
  exists: true,
  stackId: STACK_ID,
  status: 'UPDATE_COMPLETE'
}

beforeAll(async () => {
  moto = await startMoto()
  aws = testClients(moto.endpoint)
  dir = await mkdtemp(join(tmpdir(), 'import-url-'))
  const discovery = discover({
    template: CDK_OUT,
    stage: 'pr-7',
    stackName: null,
    tables: [TABLE],
    region: 'us-east-1',
    account: '123456789012'
  })
  spec = discovery.tables[0] as TableSpec
  const synthesized = discovery.stacks.find(s => s.name === STACK)?.template as CfnTemplate
  const text = JSON.stringify(synthesized)
    .replace(/\{"Ref":"LargeTableDAC510D1"\}/g, `"${TABLE}"`)
    .replace(
      /\{"Fn::GetAtt":\["LargeTableDAC510D1","Arn"\]\}/g,
      `"arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}"`
    )
  deployed = JSON.parse(text) as CfnTemplate
  delete deployed.Resources?.LargeTableDAC510D1
  for (const bucket of ['pr-7-templates', BOOTSTRAP])
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }))
}, 60_000)

afterAll(async () => {
  destroyClients(aws)
  await moto?.stop()
  await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  cfn.reset()
  cfn
    .on(GetTemplateCommand, { StackName: STACK_ID, TemplateStage: 'Original' })
    .resolves({ TemplateBody: JSON.stringify(deployed) })
  cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ARN, StackId: STACK_ID })
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' })
  cfn.on(ExecuteChangeSetCommand).resolves({})
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      { StackName: STACK, StackId: STACK_ID, StackStatus: 'IMPORT_COMPLETE', CreationTime: new Date(NOW) }
    ]
  })
  cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      {
        LogicalResourceId: 'LargeTableDAC510D1',
        PhysicalResourceId: TABLE,
        ResourceType: 'AWS::DynamoDB::Table',
        ResourceStatus: 'IMPORT_COMPLETE',
        LastUpdatedTimestamp: new Date(NOW)
      }
    ]
  })
})

function candidate(over: Partial<TableSpec> = {}) {
  return {
    tableName: TABLE,
    region: 'us-east-1',
    spec: { ...spec, ...over },
    live: liveTable({ tableName: TABLE, arn: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}` })
  }
}

function run(over: Partial<ExecuteImportsInput> = {}, specOver: Partial<TableSpec> = {}) {
  return executeImports(
    { cloudformation: cfnClient, s3: aws.s3 },
    {
      stack,
      stackName: STACK,
      region: 'us-east-1',
      tables: [candidate(specOver)],
      dryRun: false,
      artifactDir: dir,
      logger: { info: () => {}, warning: () => {}, debug: () => {} },
      clock: { now: () => NOW, sleep: async () => {} },
      limits: { pollMs: 1_000, changeSetMaxWaitMs: 60_000, importMaxWaitMs: 60_000 },
      templateStores: { s3Bucket: null, s3BucketRegion: 'us-east-1', assetsBucket: null, stage: 'pr-7' },
      ...over
    }
  )
}

function createChangeSetInput(): Record<string, unknown> {
  const calls = cfn.commandCalls(CreateChangeSetCommand)
  expect(calls).toHaveLength(1)
  return calls[0]!.args[0].input as unknown as Record<string, unknown>
}

async function objectText(bucket: string, key: string): Promise<string> {
  const out = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return (await out.Body?.transformToString('utf8')) ?? ''
}

/** The import template exactly as the artifact file records it (what TemplateBody would have been). */
async function importTemplateBody(): Promise<string> {
  const file = JSON.parse(await readFile(join(dir, `import-${STACK}.json`), 'utf8')) as {
    template: CfnTemplate
  }
  return canonicalJson(file.template)
}

describe('an import template over 51,200 bytes', () => {
  it('with s3-bucket: is uploaded under its prefix and the change set arrives as TemplateURL', async () => {
    const result = await run({
      templateStores: {
        s3Bucket: { bucket: 'pr-7-templates', prefix: 'guard' },
        s3BucketRegion: 'us-east-1',
        assetsBucket: BOOTSTRAP,
        stage: 'pr-7'
      }
    })
    expect(result.outcome).toBe('resolved')
    const key = `guard/cloudformation-import-templates/pr-7/${STACK}/${CHANGE_SET}.json`
    const input = createChangeSetInput()
    expect(input.TemplateURL).toBe(`https://pr-7-templates.s3.us-east-1.amazonaws.com/${key}`)
    expect(input).not.toHaveProperty('TemplateBody')
    expect(input).toMatchObject({ ChangeSetType: 'IMPORT', StackName: STACK })
    // The object holds exactly the import template: the deployed template unchanged, plus the table.
    const stored = await objectText('pr-7-templates', key)
    expect(stored).toBe(await importTemplateBody())
    expect(Buffer.byteLength(stored)).toBeGreaterThan(51_200)
    const template = JSON.parse(stored) as CfnTemplate
    expect(Object.keys(template.Resources ?? {}).sort()).toEqual(
      [...Object.keys(deployed.Resources ?? {}), 'LargeTableDAC510D1'].sort()
    )
  })

  it('a small one with s3-bucket goes there too (any size: the file is kept in S3), as TemplateURL, and the report names it', async () => {
    // A stack that holds nothing else: its import template is a few hundred bytes.
    cfn
      .on(GetTemplateCommand, { StackName: STACK_ID, TemplateStage: 'Original' })
      .resolves({ TemplateBody: JSON.stringify({ Resources: {} }) })
    const result = await run({
      templateStores: {
        s3Bucket: { bucket: 'pr-7-templates', prefix: 'guard' },
        s3BucketRegion: 'us-east-1',
        assetsBucket: BOOTSTRAP,
        stage: 'pr-7'
      }
    })
    expect(result.outcome).toBe('resolved')
    const key = `guard/cloudformation-import-templates/pr-7/${STACK}/${CHANGE_SET}.json`
    const input = createChangeSetInput()
    expect(input.TemplateURL).toBe(`https://pr-7-templates.s3.us-east-1.amazonaws.com/${key}`)
    expect(input).not.toHaveProperty('TemplateBody')
    const stored = await objectText('pr-7-templates', key)
    expect(stored).toBe(await importTemplateBody())
    expect(Buffer.byteLength(stored)).toBeLessThan(51_200)
    expect(result.templateS3Uri).toBe(`s3://pr-7-templates/${key}`)
    const report = renderReport(
      reportContext({
        importArtifacts: [
          {
            stack: STACK,
            templatePath: result.templatePath as string,
            templateS3Uri: result.templateS3Uri as string,
            templateBody: stored,
            resourcesToImport: []
          }
        ]
      })
    )
    expect(report).toContain(`\`s3://pr-7-templates/${key}\``)
  })

  it('without s3-bucket: goes to the CDK bootstrap assets bucket the cloud assembly names for the stack', async () => {
    expect(spec.assetsBucket).toBe(BOOTSTRAP)
    const result = await run({
      templateStores: { s3Bucket: null, s3BucketRegion: 'us-east-1', assetsBucket: BOOTSTRAP, stage: 'pr-7' }
    })
    expect(result.outcome).toBe('resolved')
    const key = `dynamodb-orphan-guard/import-templates/pr-7/${STACK}/${CHANGE_SET}.json`
    expect(createChangeSetInput().TemplateURL).toBe(`https://${BOOTSTRAP}.s3.us-east-1.amazonaws.com/${key}`)
    expect(await objectText(BOOTSTRAP, key)).toBe(await importTemplateBody())
  })

  it('with neither: blocked before any change set, naming s3-bucket', async () => {
    const result = await run()
    expect(result.outcome).toBe('blocked')
    expect(result.reasons.join(' ')).toMatch(/no S3 bucket in us-east-1 is known .*Set the s3-bucket input/)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
  })

  it('dry-run: writes the template locally, says where it would go, and uploads nothing', async () => {
    const result = await run({
      dryRun: true,
      // A minute later: a change set name (and key) no earlier test wrote.
      clock: { now: () => NOW + 60_000, sleep: async () => {} },
      templateStores: { s3Bucket: null, s3BucketRegion: 'us-east-1', assetsBucket: BOOTSTRAP, stage: 'pr-7' }
    })
    expect(result.outcome).toBe('dry-run')
    const key = `dynamodb-orphan-guard/import-templates/pr-7/${STACK}/orphan-guard-import-20261205T080100000Z.json`
    expect(result.tables[0]?.detail).toContain(`would go to s3://${BOOTSTRAP}/${key}`)
    expect(result.calls.map(c => c.command)).toEqual([
      'PutObject',
      'CreateChangeSet',
      'DescribeChangeSet',
      'DeleteChangeSet',
      'ExecuteChangeSet',
      'DescribeStacks',
      'ListStackResources'
    ])
    expect(result.calls[1]?.input).toMatchObject({
      TemplateURL: `https://${BOOTSTRAP}.s3.us-east-1.amazonaws.com/${key}`
    })
    const artifact = JSON.parse(await readFile(join(dir, `import-${STACK}.json`), 'utf8')) as Record<
      string,
      unknown
    >
    expect(artifact.templateUploadedTo).toEqual({
      s3: `s3://${BOOTSTRAP}/${key}`,
      via: 'CDK bootstrap assets bucket',
      bytes: expect.any(Number)
    })
    expect(cfn.calls()).toHaveLength(1) // GetTemplate
    await expect(aws.s3.send(new HeadObjectCommand({ Bucket: BOOTSTRAP, Key: key }))).rejects.toThrow()
  })

  it('an upload that fails stops before any change set (nothing was changed)', async () => {
    const result = await run({
      templateStores: {
        s3Bucket: { bucket: 'no-such-bucket-here', prefix: '' },
        s3BucketRegion: 'us-east-1',
        assetsBucket: null,
        stage: 'pr-7'
      }
    })
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toMatch(
      /^uploading the import template of stack pr-7-large to s3:\/\/no-such-bucket-here\/.* failed/
    )
    expect(result.stateNote).toMatch(/^Nothing was changed: no change set was created/)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })
})

describe('the plan already knows a large stack needs a bucket', () => {
  function check(
    specOver: Partial<TableSpec>,
    s3Bucket: string
  ): { check: Check; inputs: ReturnType<typeof getInputs> } {
    const f: Finding = {
      spec: { ...spec, ...specOver },
      tableName: TABLE,
      region: 'us-east-1',
      exists: true,
      live: liveTable({ tableName: TABLE }),
      owner: 'retained',
      retainedFrom: STACK,
      hasData: true,
      stack,
      differences: [],
      problems: []
    }
    const inputs = getInputs(n => ({ stage: 'pr-7', strategy: 'import', 's3-bucket': s3Bucket })[n] ?? '', {
      cwd: dir,
      awsRegion: 'us-east-1'
    })
    const plan = planTables([f], {
      stage: 'pr-7',
      strategy: 'import',
      protectedStage: false,
      allowDataLoss: false
    })
    return {
      check: {
        discovery: { source: 'cloud-assembly', stacks: [], tables: [f.spec], notes: [], warnings: [] },
        inspection: { findings: [f], stacks: [stack], region: 'us-east-1' },
        plan,
        identity: null
      },
      inputs
    }
  }

  it('with neither s3-bucket nor a bootstrap bucket: blocked in the plan, before any CloudFormation call', async () => {
    const { check: c, inputs } = check({ assetsBucket: undefined }, '')
    expect(c.plan.entries[0]?.decision).toBe('blocked')
    expect(c.plan.entries[0]?.reasons.join(' ')).toMatch(
      /the template of stack pr-7-large is 56479 bytes, over the 51200 a TemplateBody may hold, and no S3 bucket in us-east-1 is known .*Set the s3-bucket input/
    )
    const { result } = await executePlan(c, inputs, {
      clients: oneRegion({ ...aws, cloudformation: cfnClient }),
      logger: { info: () => {}, warning: () => {}, debug: () => {} },
      clock: { now: () => NOW, sleep: async () => {} }
    })
    expect(result.outcome).toBe('blocked')
    expect(cfn.calls()).toHaveLength(0)
  })

  it('with the bootstrap bucket the assembly names: imported, through TemplateURL', () => {
    const { check: c } = check({}, '')
    expect(c.plan.entries[0]?.decision).toBe('import')
  })
})
