/**
 * Contract tests of the IMPORT strategy: no emulator supports IMPORT change sets, so the CloudFormation client is
 * mocked by request (`.on(Command, input)`, never by call order) and status sequences are scripted per resource.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  CloudFormationClient,
  CloudFormationServiceException,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
  type CreateChangeSetCommandInput,
  type StackEvent,
  type StackStatus
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import {
  changeSetDescription,
  executeImports,
  type ExecuteImportsInput,
  type ImportCandidate
} from '../../src/execute/import.js'
import { liveTableProperties } from '../../src/execute/import-template.js'
import {
  CloudFormationWaitError,
  waitForImport,
  type ImportTarget
} from '../../src/aws/cloudformation-import.js'
import { OperationError } from '../../src/errors.js'
import type { CfnTemplate, Logger, StackState } from '../../src/types.js'
import {
  CHANGE_SET_ARN,
  CHANGE_SET_NAME,
  NOW,
  STACK,
  STACK_ID,
  deployedTemplate,
  liveAuditTable,
  liveMainTable,
  tableSpec
} from './import-builders.js'

const cfn = mockClient(CloudFormationClient)
const client = new CloudFormationClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
})

const POLL_MS = 5_000

let artifactDir: string
beforeAll(async () => {
  artifactDir = await mkdtemp(path.join(tmpdir(), 'import-contract-'))
})
afterAll(async () => {
  await rm(artifactDir, { recursive: true, force: true })
})
beforeEach(() => {
  cfn.reset()
})

const existingStack: StackState = { name: STACK, exists: true, stackId: STACK_ID, status: 'UPDATE_COMPLETE' }
const mainTable: ImportCandidate = { tableName: 'pr-5-main-table', spec: tableSpec(), live: liveMainTable() }
const auditTable: ImportCandidate = {
  tableName: 'pr-5-audit',
  spec: tableSpec({
    tableName: 'pr-5-audit',
    logicalId: 'AuditTable1F2E3D4C',
    deletionPolicy: null,
    updateReplacePolicy: null
  }),
  live: liveAuditTable()
}

/** A fake clock that advances only when the code under test sleeps. */
function fakeTime() {
  let t = NOW
  const sleeps: number[] = []
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      t += ms
    },
    sleeps
  }
}

function logger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    info: m => lines.push(m),
    warning: m => lines.push(`warning: ${m}`),
    debug: () => undefined
  }
}

function run(overrides: Partial<ExecuteImportsInput> = {}, time = fakeTime()) {
  return executeImports(
    { cloudformation: client },
    {
      stack: existingStack,
      stackName: STACK,
      tables: [mainTable],
      dryRun: false,
      artifactDir,
      logger: logger(),
      clock: time,
      limits: { pollMs: POLL_MS, changeSetMaxWaitMs: 60_000, importMaxWaitMs: 300_000 },
      ...overrides
    }
  )
}

function givenDeployedTemplate(body: string = JSON.stringify(deployedTemplate())): void {
  cfn
    .on(GetTemplateCommand, { StackName: STACK_ID, TemplateStage: 'Original' })
    .resolves({ TemplateBody: body })
}

function givenChangeSetCreated(stackId = STACK_ID): void {
  cfn
    .on(CreateChangeSetCommand, { StackName: STACK, ChangeSetName: CHANGE_SET_NAME, ChangeSetType: 'IMPORT' })
    .resolves({ Id: CHANGE_SET_ARN, StackId: stackId })
}

function givenChangeSetStatuses(
  ...statuses: {
    Status: 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'FAILED'
    StatusReason?: string
  }[]
): void {
  const last = statuses.at(-1)
  let stub = cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN })
  for (const s of statuses.slice(0, -1))
    stub = stub.resolvesOnce({ ChangeSetId: CHANGE_SET_ARN, ExecutionStatus: 'UNAVAILABLE', ...s })
  stub.resolves({
    ChangeSetId: CHANGE_SET_ARN,
    ExecutionStatus: last?.Status === 'CREATE_COMPLETE' ? 'AVAILABLE' : 'UNAVAILABLE',
    ...last
  })
}

function givenStackStatuses(stackId: string, ...statuses: StackStatus[]): void {
  const stack = (StackStatus: StackStatus) => ({
    Stacks: [{ StackName: STACK, StackId: stackId, StackStatus, CreationTime: new Date(NOW) }]
  })
  let stub = cfn.on(DescribeStacksCommand, { StackName: stackId })
  for (const s of statuses.slice(0, -1)) stub = stub.resolvesOnce(stack(s))
  stub.resolves(stack(statuses.at(-1) ?? 'IMPORT_COMPLETE'))
}

function givenStackLists(stackId: string, ...tables: [logicalId: string, tableName: string][]): void {
  cfn.on(ListStackResourcesCommand, { StackName: stackId }).resolves({
    StackResourceSummaries: tables.map(([LogicalResourceId, PhysicalResourceId]) => ({
      LogicalResourceId,
      PhysicalResourceId,
      ResourceType: 'AWS::DynamoDB::Table',
      ResourceStatus: 'IMPORT_COMPLETE',
      LastUpdatedTimestamp: new Date(NOW)
    }))
  })
}

function createChangeSetRequest(): CreateChangeSetCommandInput {
  const calls = cfn.commandCalls(CreateChangeSetCommand)
  expect(calls).toHaveLength(1)
  return calls[0]!.args[0].input
}

function sentTemplate(): CfnTemplate {
  return JSON.parse(createChangeSetRequest().TemplateBody ?? 'null') as CfnTemplate
}

function expectNoMutatingCall(): void {
  expect(cfn).not.toHaveReceivedCommand(CreateChangeSetCommand)
  expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
}

describe('import into an existing stack', () => {
  function happyPath(): void {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses(
      { Status: 'CREATE_PENDING' },
      { Status: 'CREATE_IN_PROGRESS' },
      { Status: 'CREATE_COMPLETE' }
    )
    cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
    givenStackStatuses(STACK_ID, 'IMPORT_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE')
    givenStackLists(
      STACK_ID,
      ['SessionsTable7C302024', 'pr-5-aws-boilerplate-database-sessions'],
      ['MainTable74195DAB', 'pr-5-main-table']
    )
  }

  it('sends exactly this CreateChangeSet request: IMPORT, previous parameters, needed capabilities, client token', async () => {
    happyPath()
    await run()
    expect(createChangeSetRequest()).toEqual({
      StackName: STACK,
      ChangeSetName: CHANGE_SET_NAME,
      ChangeSetType: 'IMPORT',
      TemplateBody: expect.any(String),
      ResourcesToImport: [
        {
          ResourceType: 'AWS::DynamoDB::Table',
          LogicalResourceId: 'MainTable74195DAB',
          ResourceIdentifier: { TableName: 'pr-5-main-table' }
        }
      ],
      ClientToken: CHANGE_SET_NAME,
      Description: 'DynamoDB Orphan Guard: import pr-5-main-table',
      Parameters: [{ ParameterKey: 'BootstrapVersion', UsePreviousValue: true }],
      Capabilities: ['CAPABILITY_IAM']
    })
    expect(cfn).toHaveReceivedCommandWith(GetTemplateCommand, {
      StackName: STACK_ID,
      TemplateStage: 'Original'
    })
  })

  it('passes role-arn as the change set RoleARN (the CloudFormation execution role), and nothing without it', async () => {
    const role = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1'
    happyPath()
    await run({ roleArn: role })
    expect(createChangeSetRequest().RoleARN).toBe(role)
    cfn.reset()
    happyPath()
    await run()
    expect(Object.keys(createChangeSetRequest())).not.toContain('RoleARN')
  })

  it('template rule: every deployed resource is sent unchanged', async () => {
    happyPath()
    await run()
    const sent = sentTemplate()
    for (const [id, resource] of Object.entries(deployedTemplate().Resources ?? {}))
      expect(sent.Resources?.[id]).toEqual(resource)
  })

  it('template rule: Outputs (and Parameters, Conditions, Rules) are sent unchanged', async () => {
    happyPath()
    await run()
    const sent = sentTemplate()
    const deployed = deployedTemplate()
    expect(sent.Outputs).toEqual(deployed.Outputs)
    expect(sent.Parameters).toEqual(deployed.Parameters)
    expect(sent.Conditions).toEqual(deployed.Conditions)
    expect(sent.Rules).toEqual(deployed.Rules)
  })

  it('template rule: only the imported table is added', async () => {
    happyPath()
    await run()
    const added = Object.keys(sentTemplate().Resources ?? {}).filter(
      id => !(id in (deployedTemplate().Resources ?? {}))
    )
    expect(added).toEqual(['MainTable74195DAB'])
  })

  it('template rule: the imported table has a DeletionPolicy and UpdateReplacePolicy', async () => {
    happyPath()
    await run()
    const table = sentTemplate().Resources?.MainTable74195DAB
    expect(table?.DeletionPolicy).toBe('Retain')
    expect(table?.UpdateReplacePolicy).toBe('Retain')
  })

  it('template rule: the imported table carries the LIVE properties, not the synthesized ones', async () => {
    happyPath()
    await run()
    const props = sentTemplate().Resources?.MainTable74195DAB?.Properties
    expect(props).toEqual(liveTableProperties(liveMainTable()))
    expect(props?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' }
    ])
  })

  it('template rule: no aws:* tag is sent although the retained table carries aws:cloudformation:* tags', async () => {
    happyPath()
    await run()
    const props = sentTemplate().Resources?.MainTable74195DAB?.Properties
    expect(props?.Tags).toEqual([
      { Key: 'env', Value: 'pr-5' },
      { Key: 'team', Value: 'payments' }
    ])
    expect(createChangeSetRequest().TemplateBody).not.toContain('aws:cloudformation')
  })

  it('template rule: AttributeDefinitions are exactly the key attributes of table and indexes', async () => {
    happyPath()
    await run()
    const props = sentTemplate().Resources?.MainTable74195DAB?.Properties
    expect((props?.AttributeDefinitions as { AttributeName: string }[]).map(a => a.AttributeName)).toEqual([
      'pk',
      'sk',
      'gsi1pk',
      'gsi1sk'
    ])
  })

  it('template rule: a PAY_PER_REQUEST table has no ProvisionedThroughput anywhere', async () => {
    happyPath()
    await run()
    expect(JSON.stringify(sentTemplate().Resources?.MainTable74195DAB)).not.toContain('ProvisionedThroughput')
  })

  it('template rule: never ImportSourceSpecification', async () => {
    happyPath()
    await run()
    expect(createChangeSetRequest().TemplateBody).not.toContain('ImportSourceSpecification')
  })

  it('executes only after CREATE_COMPLETE, waits for IMPORT_COMPLETE by stack ARN, confirms ownership, and resolves', async () => {
    happyPath()
    const time = fakeTime()
    const result = await run({}, time)

    expect(result.outcome).toBe('resolved')
    expect(result.error).toBeNull()
    expect(result.changeSetId).toBe(CHANGE_SET_ARN)
    expect(result.stackId).toBe(STACK_ID)
    expect(result.tables).toEqual([
      {
        table: 'pr-5-main-table',
        logicalId: 'MainTable74195DAB',
        status: 'done',
        detail: expect.stringContaining(CHANGE_SET_ARN)
      }
    ])
    expect(result.steps).toEqual([
      { table: 'pr-5-main-table', action: 'import', status: 'done', detail: expect.any(String) }
    ])
    expect(cfn).toHaveReceivedCommandWith(ExecuteChangeSetCommand, {
      ChangeSetName: CHANGE_SET_ARN,
      ClientRequestToken: `${CHANGE_SET_NAME}-execute`
    })
    expect(cfn).toHaveReceivedCommandTimes(ExecuteChangeSetCommand, 1)
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 3)
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 3)
    expect(cfn).toHaveReceivedCommandWith(ListStackResourcesCommand, { StackName: STACK_ID })

    const names = cfn.calls().map(c => (c.args[0] as object).constructor.name)
    expect(names.indexOf('ExecuteChangeSetCommand')).toBeGreaterThan(
      names.lastIndexOf('DescribeChangeSetCommand')
    )
    // two polls of the change set, two of the stack: each slept the injected interval, never for real
    expect(time.sleeps).toEqual([POLL_MS, POLL_MS, POLL_MS, POLL_MS])
  })

  it('writes the import template and ResourcesToImport under the artifact dir', async () => {
    happyPath()
    const result = await run()
    expect(result.templatePath).toBe(path.join(artifactDir, `import-${STACK}.json`))
    const file = JSON.parse(await readFile(result.templatePath ?? '', 'utf8')) as Record<string, unknown>
    expect(file.resourcesToImport).toEqual(createChangeSetRequest().ResourcesToImport)
    expect(file.template).toEqual(sentTemplate())
    expect(file.createChangeSetRequest).toEqual(createChangeSetRequest())
  })

  it('reads a deployed template that GetTemplate returns as YAML with short-form tags', async () => {
    const yaml = [
      'Parameters:',
      '  BootstrapVersion:',
      '    Type: AWS::SSM::Parameter::Value<String>',
      '    Default: /cdk-bootstrap/hnb659fds/version',
      'Resources:',
      '  Queue4A7E3555:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      QueueName: !Sub "${AWS::StackName}-jobs"',
      '    DeletionPolicy: Delete',
      'Outputs:',
      '  QueueArn:',
      '    Value: !GetAtt Queue4A7E3555.Arn',
      ''
    ].join('\n')
    givenDeployedTemplate(yaml)
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand).resolves({})
    givenStackStatuses(STACK_ID, 'IMPORT_COMPLETE')
    givenStackLists(STACK_ID, ['MainTable74195DAB', 'pr-5-main-table'])

    const result = await run()
    expect(result.outcome).toBe('resolved')
    const sent = sentTemplate()
    expect(sent.Resources?.Queue4A7E3555).toEqual({
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-jobs' } },
      DeletionPolicy: 'Delete'
    })
    expect(sent.Outputs).toEqual({ QueueArn: { Value: { 'Fn::GetAtt': ['Queue4A7E3555', 'Arn'] } } })
    expect(createChangeSetRequest().Capabilities).toBeUndefined()
  })
})

describe('import into a new stack (the stack is gone, the table stayed)', () => {
  const NEW_STACK_ID = `arn:aws:cloudformation:eu-west-1:123456789012:stack/${STACK}/9d9d9d9d-1111-2222-3333-444444444444`

  it.each([
    ['no stack', { name: STACK, exists: false }],
    [
      'a stack in REVIEW_IN_PROGRESS (exists without resources)',
      { name: STACK, exists: true, stackId: STACK_ID, status: 'REVIEW_IN_PROGRESS' }
    ]
  ])(
    '%s: IMPORT creates the stack from a template holding only the table',
    async (_case, stack: StackState) => {
      givenChangeSetCreated(NEW_STACK_ID)
      givenChangeSetStatuses({ Status: 'CREATE_IN_PROGRESS' }, { Status: 'CREATE_COMPLETE' })
      cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
      givenStackStatuses(NEW_STACK_ID, 'REVIEW_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE')
      givenStackLists(NEW_STACK_ID, ['MainTable74195DAB', 'pr-5-main-table'])

      const result = await run({ stack })

      expect(result.outcome).toBe('resolved')
      expect(result.newStack).toBe(true)
      expect(result.stackId).toBe(NEW_STACK_ID)
      expect(cfn).not.toHaveReceivedCommand(GetTemplateCommand)
      expect(createChangeSetRequest()).toEqual({
        StackName: STACK,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'IMPORT',
        TemplateBody: expect.any(String),
        ResourcesToImport: [
          {
            ResourceType: 'AWS::DynamoDB::Table',
            LogicalResourceId: 'MainTable74195DAB',
            ResourceIdentifier: { TableName: 'pr-5-main-table' }
          }
        ],
        ClientToken: CHANGE_SET_NAME,
        Description: 'DynamoDB Orphan Guard: import pr-5-main-table'
      })
      const sent = sentTemplate()
      expect(Object.keys(sent).sort()).toEqual(['AWSTemplateFormatVersion', 'Resources'])
      expect(Object.keys(sent.Resources ?? {})).toEqual(['MainTable74195DAB'])
      expect(sent.Resources?.MainTable74195DAB?.DeletionPolicy).toBe('Retain')
      expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: NEW_STACK_ID })
    }
  )
})

describe('two tables of one stack', () => {
  it('go into ONE change set', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
    givenStackStatuses(STACK_ID, 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE')
    givenStackLists(STACK_ID, ['MainTable74195DAB', 'pr-5-main-table'], ['AuditTable1F2E3D4C', 'pr-5-audit'])

    const result = await run({ tables: [mainTable, auditTable] })

    expect(result.outcome).toBe('resolved')
    expect(cfn).toHaveReceivedCommandTimes(CreateChangeSetCommand, 1)
    expect(cfn).toHaveReceivedCommandTimes(ExecuteChangeSetCommand, 1)
    expect(createChangeSetRequest().ResourcesToImport).toEqual([
      {
        ResourceType: 'AWS::DynamoDB::Table',
        LogicalResourceId: 'MainTable74195DAB',
        ResourceIdentifier: { TableName: 'pr-5-main-table' }
      },
      {
        ResourceType: 'AWS::DynamoDB::Table',
        LogicalResourceId: 'AuditTable1F2E3D4C',
        ResourceIdentifier: { TableName: 'pr-5-audit' }
      }
    ])
    const added = Object.keys(sentTemplate().Resources ?? {}).filter(
      id => !(id in (deployedTemplate().Resources ?? {}))
    )
    expect(added.sort()).toEqual(['AuditTable1F2E3D4C', 'MainTable74195DAB'])
    // the audit table's spec has no policies: Retain is written
    expect(sentTemplate().Resources?.AuditTable1F2E3D4C?.DeletionPolicy).toBe('Retain')
    expect(result.tables.map(t => [t.table, t.status])).toEqual([
      ['pr-5-main-table', 'done'],
      ['pr-5-audit', 'done']
    ])
  })

  it('fail together when the stack does not list one of them after IMPORT_COMPLETE', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand).resolves({})
    givenStackStatuses(STACK_ID, 'IMPORT_COMPLETE')
    givenStackLists(STACK_ID, ['MainTable74195DAB', 'pr-5-main-table'])

    const result = await run({ tables: [mainTable, auditTable] })
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toContain('does not list pr-5-audit')
  })
})

describe('a FAILED change set is reported and never executed', () => {
  it.each([
    ['a change to Outputs', 'As part of the import operation, you cannot modify or add [Outputs]'],
    [
      'no changes',
      "The submitted information didn't contain changes. Submit different information to create a change set."
    ]
  ])('%s', async (_case, reason) => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_IN_PROGRESS' }, { Status: 'FAILED', StatusReason: reason })
    cfn.on(DeleteChangeSetCommand).resolves({})

    const result = await run()

    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(cfn.commandCalls(DeleteChangeSetCommand).map(c => c.args[0].input)).toEqual([
      { ChangeSetName: CHANGE_SET_ARN }
    ])
    expect(result.error?.state).toContain(
      'The FAILED change set was deleted (set keep-failed-change-sets: true to keep it for the console).'
    )
    expect(result.calls.map(c => c.command)).toEqual(['CreateChangeSet', 'DeleteChangeSet'])
    expect(result.outcome).toBe('failed')
    expect(result.changeSetId).toBe(CHANGE_SET_ARN)
    expect(result.error).toBeInstanceOf(OperationError)
    expect(result.error?.message).toBe(`change set ${CHANGE_SET_ARN} failed: ${reason}`)
    expect(result.error?.state).toContain(
      'The change set was not executed; the tables are untouched and still outside stack'
    )
    expect(result.error?.state).toContain(`CloudFormation said: ${reason}`)
    expect(result.stateNote).toBe(result.error?.state)
    expect(result.tables[0]?.status).toBe('failed')
  })

  it('keep-failed-change-sets: true keeps the FAILED change set, and the report says where to read it', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'FAILED', StatusReason: 'no changes' })

    const result = await run({ keepFailedChangeSets: true })

    expect(cfn).not.toHaveReceivedCommand(DeleteChangeSetCommand)
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(result.error?.state).toContain(
      `The FAILED change set ${CHANGE_SET_ARN} was kept (keep-failed-change-sets: true): read it in the CloudFormation console, then delete it.`
    )
  })

  it('a DeleteChangeSet that fails is said (with the permission), never turns the failure into something else', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'FAILED', StatusReason: 'no changes' })
    cfn.on(DeleteChangeSetCommand).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized to perform: cloudformation:DeleteChangeSet'
      })
    )

    const result = await run()

    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toBe(`change set ${CHANGE_SET_ARN} failed: no changes`)
    expect(result.error?.state).toContain(
      `The FAILED change set ${CHANGE_SET_ARN} could not be deleted (not authorized to perform: cloudformation:DeleteChangeSet; DeleteChangeSet needs cloudformation:DeleteChangeSet): delete it by hand.`
    )
  })

  it('a change set that never reaches CREATE_COMPLETE times out on the injected clock and is not executed', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_IN_PROGRESS' })
    const time = fakeTime()

    const result = await run({ limits: { pollMs: POLL_MS, changeSetMaxWaitMs: 20_000 } }, time)

    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toContain(
      'did not reach CREATE_COMPLETE in time (last status CREATE_IN_PROGRESS)'
    )
    // Not FAILED: still being created, so it is not deleted.
    expect(cfn).not.toHaveReceivedCommand(DeleteChangeSetCommand)
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(20_000)
  })

  it('CreateChangeSet is called once, never retried, when CloudFormation rejects it', async () => {
    givenDeployedTemplate()
    cfn.on(CreateChangeSetCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'ResourceTypes [AWS::DynamoDB::GlobalTable] are not supported for Import'
      })
    )
    const result = await run()
    expect(cfn).toHaveReceivedCommandTimes(CreateChangeSetCommand, 1)
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toContain('are not supported for Import')
    expect(result.error?.state).toContain('Nothing was imported')
  })
})

describe('an import that rolls back', () => {
  const event = (
    id: string,
    LogicalResourceId: string,
    ResourceType: string,
    ResourceStatus: string,
    ResourceStatusReason?: string
  ): StackEvent => ({
    StackId: STACK_ID,
    EventId: id,
    StackName: STACK,
    LogicalResourceId,
    PhysicalResourceId: ResourceType === 'AWS::CloudFormation::Stack' ? STACK_ID : 'pr-5-main-table',
    ResourceType,
    ResourceStatus: ResourceStatus as StackEvent['ResourceStatus'],
    ResourceStatusReason,
    Timestamp: new Date(NOW)
  })
  const STACK_TYPE = 'AWS::CloudFormation::Stack'
  const TABLE_TYPE = 'AWS::DynamoDB::Table'
  const cause =
    "Resource with identifier 'pr-5-main-table' is already managed by stack pr-5-aws-boilerplate-api"

  it('IMPORT_ROLLBACK_COMPLETE fails with the first FAILED event of this import as the reason', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
    givenStackStatuses(
      STACK_ID,
      'IMPORT_IN_PROGRESS',
      'IMPORT_ROLLBACK_IN_PROGRESS',
      'IMPORT_ROLLBACK_COMPLETE'
    )
    // newest first, two pages; the page-2 FAILED event belongs to an older operation and must be ignored
    cfn.on(DescribeStackEventsCommand, { StackName: STACK_ID }).resolves({
      StackEvents: [
        event('9', STACK, STACK_TYPE, 'IMPORT_ROLLBACK_COMPLETE'),
        event('8', 'MainTable74195DAB', TABLE_TYPE, 'IMPORT_ROLLBACK_COMPLETE'),
        event(
          '7',
          STACK,
          STACK_TYPE,
          'IMPORT_ROLLBACK_IN_PROGRESS',
          'The following resource(s) failed to import: [MainTable74195DAB]. '
        ),
        event('6', 'AuditTable1F2E3D4C', TABLE_TYPE, 'IMPORT_FAILED', 'Resource import cancelled')
      ],
      NextToken: 'page-2'
    })
    cfn.on(DescribeStackEventsCommand, { StackName: STACK_ID, NextToken: 'page-2' }).resolves({
      StackEvents: [
        event('5', 'MainTable74195DAB', TABLE_TYPE, 'IMPORT_FAILED', cause),
        event('4', STACK, STACK_TYPE, 'IMPORT_IN_PROGRESS', 'User Initiated'),
        event('3', 'SessionsTable7C302024', TABLE_TYPE, 'UPDATE_FAILED', 'an older operation')
      ],
      NextToken: 'page-3'
    })

    const result = await run()

    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toBe(`the import into ${STACK} ended IMPORT_ROLLBACK_COMPLETE: ${cause}`)
    expect(result.error?.state).toContain('The import rolled back: the tables are untouched')
    expect(result.error?.state).toContain(cause)
    expect(cfn).toHaveReceivedCommandTimes(DescribeStackEventsCommand, 2)
    expect(cfn).not.toHaveReceivedCommand(ListStackResourcesCommand)
  })

  it('IMPORT_ROLLBACK_FAILED says the stack needs repair', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand).resolves({})
    givenStackStatuses(STACK_ID, 'IMPORT_ROLLBACK_FAILED')
    cfn.on(DescribeStackEventsCommand, { StackName: STACK_ID }).resolves({
      StackEvents: [
        event('2', 'MainTable74195DAB', TABLE_TYPE, 'IMPORT_FAILED', cause),
        event('1', STACK, STACK_TYPE, 'IMPORT_IN_PROGRESS')
      ]
    })
    const result = await run()
    expect(result.outcome).toBe('failed')
    expect(result.error?.state).toContain(`Stack ${STACK} is IMPORT_ROLLBACK_FAILED after the import`)
    expect(result.error?.state).toContain('repair the stack before deploying')
  })
})

describe('refusals happen before any change set (outcome blocked)', () => {
  it.each([
    'ROLLBACK_COMPLETE',
    'UPDATE_IN_PROGRESS',
    'UPDATE_ROLLBACK_IN_PROGRESS',
    'IMPORT_IN_PROGRESS',
    'DELETE_IN_PROGRESS',
    'UPDATE_ROLLBACK_FAILED',
    'DELETE_FAILED'
  ])('a stack in %s is refused without any CloudFormation call', async status => {
    const result = await run({ stack: { ...existingStack, status } })
    expect(result.outcome).toBe('blocked')
    expect(cfn.calls()).toHaveLength(0)
    expect(result.reasons[0]).toContain(`stack ${STACK} is ${status}`)
    expect(result.stateNote).toContain('Nothing was changed: no change set was created')
    expect(result.tables).toEqual([
      {
        table: 'pr-5-main-table',
        logicalId: 'MainTable74195DAB',
        status: 'blocked',
        detail: result.reasons[0]
      }
    ])
    expect(result.steps[0]?.status).toBe('skipped')
  })

  it('ROLLBACK_COMPLETE says to delete the stack first', async () => {
    const result = await run({ stack: { ...existingStack, status: 'ROLLBACK_COMPLETE' } })
    expect(result.reasons[0]).toContain(`aws cloudformation delete-stack --stack-name ${STACK}`)
  })

  it.each([
    [
      'a table in a nested stack',
      { spec: tableSpec({ nestedPath: ['AuditNestedStackAuditNestedStackResourceF69BD105'] }) },
      /nested stack AuditNestedStack.*not supported/
    ],
    [
      'a table of a stack for another account',
      { notCheckable: 'stack pr-5-database is for account 999999999999' },
      /cannot be checked with these credentials: stack pr-5-database is for account 999999999999/
    ],
    ['a table without logical id', { spec: tableSpec({ logicalId: null }) }, /no logical id/],
    ['a table that does not exist', { live: null }, /does not exist/],
    ['a table that is not ACTIVE', { live: liveMainTable({ status: 'DELETING' }) }, /is DELETING/],
    [
      'a table of another stack',
      { spec: tableSpec({ stack: 'pr-5-aws-boilerplate-api' }) },
      /belongs to stack pr-5-aws-boilerplate-api/
    ]
  ])(
    '%s is refused and the other table of the stack is not imported either',
    async (_case, override, message) => {
      const result = await run({ tables: [{ ...mainTable, ...override }, auditTable] })
      expect(result.outcome).toBe('blocked')
      expect(cfn.calls()).toHaveLength(0)
      expect(result.tables[0]?.status).toBe('blocked')
      expect(result.tables[0]?.detail).toMatch(message)
      expect(result.tables[1]).toEqual({
        table: 'pr-5-audit',
        logicalId: 'AuditTable1F2E3D4C',
        status: 'skipped',
        detail: expect.stringContaining('one import for all its tables')
      })
    }
  )

  it('a template over 51,200 bytes with no S3 bucket known is refused, naming s3-bucket, without CreateChangeSet', async () => {
    const big = deployedTemplate()
    big.Description = 'd'.repeat(52_000)
    givenDeployedTemplate(JSON.stringify(big))
    const result = await run()
    expect(result.outcome).toBe('blocked')
    expect(result.reasons[0]).toMatch(
      /more than the 51200 a TemplateBody may hold, .*Set the s3-bucket input/
    )
    expectNoMutatingCall()
  })

  it('a logical id the deployed stack already has is refused', async () => {
    givenDeployedTemplate()
    const result = await run({
      tables: [{ ...mainTable, spec: tableSpec({ logicalId: 'SessionsTable7C302024' }) }]
    })
    expect(result.outcome).toBe('blocked')
    expectNoMutatingCall()
  })
})

describe('dry-run', () => {
  it('makes no mutating call, writes the artifact, and returns the exact CreateChangeSet request it would send', async () => {
    givenDeployedTemplate()
    const result = await run({ dryRun: true })

    expectNoMutatingCall()
    expect(cfn.calls().map(c => (c.args[0] as object).constructor.name)).toEqual(['GetTemplateCommand'])
    expect(result.outcome).toBe('dry-run')
    expect(result.tables[0]?.status).toBe('planned')
    expect(result.steps[0]?.status).toBe('planned')
    expect(result.calls.map(c => c.command)).toEqual([
      'CreateChangeSet',
      'DescribeChangeSet',
      'DeleteChangeSet',
      'ExecuteChangeSet',
      'DescribeStacks',
      'ListStackResources'
    ])

    // the same request a real run sends
    const dryInput = result.calls[0]?.input
    const file = JSON.parse(await readFile(result.templatePath ?? '', 'utf8')) as Record<string, unknown>
    expect(file.createChangeSetRequest).toEqual(dryInput)

    cfn.reset()
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'FAILED', StatusReason: 'stop here' })
    await run()
    expect(createChangeSetRequest()).toEqual(dryInput)
  })
})

describe('following the import', () => {
  function createdAndExecuted(): void {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
  }

  it('an import still running at the time limit fails with "do not deploy until it ends", on the injected clock', async () => {
    createdAndExecuted()
    givenStackStatuses(STACK_ID, 'IMPORT_IN_PROGRESS')
    const time = fakeTime()
    const result = await run({ limits: { pollMs: POLL_MS, importMaxWaitMs: 30_000 } }, time)
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toContain('was still IMPORT_IN_PROGRESS')
    expect(result.error?.state).toContain('do not deploy until it ends')
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000)
  })

  it('ownership is confirmed across ListStackResources pages', async () => {
    createdAndExecuted()
    givenStackStatuses(STACK_ID, 'IMPORT_COMPLETE')
    const summary = (LogicalResourceId: string, PhysicalResourceId: string) => ({
      LogicalResourceId,
      PhysicalResourceId,
      ResourceType: 'AWS::DynamoDB::Table',
      ResourceStatus: 'IMPORT_COMPLETE' as const,
      LastUpdatedTimestamp: new Date(NOW)
    })
    cfn
      .on(ListStackResourcesCommand, { StackName: STACK_ID })
      .resolves({ StackResourceSummaries: [summary('SessionsTable7C302024', 'x')], NextToken: 'p2' })
    cfn
      .on(ListStackResourcesCommand, { StackName: STACK_ID, NextToken: 'p2' })
      .resolves({ StackResourceSummaries: [summary('MainTable74195DAB', 'pr-5-main-table')] })
    const result = await run()
    expect(result.outcome).toBe('resolved')
    expect(cfn).toHaveReceivedCommandTimes(ListStackResourcesCommand, 2)
  })

  it('a deployed template that cannot be parsed fails before any change set, naming the stack', async () => {
    givenDeployedTemplate('Resources: [not, a, mapping]')
    const result = await run()
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toContain(`deployed template of stack ${STACK}`)
    expect(result.error?.state).toContain('Nothing was changed: no change set was created')
    expectNoMutatingCall()
  })
})

describe('changeSetDescription', () => {
  it.each([
    [['pr-5-main-table'], 'DynamoDB Orphan Guard: import pr-5-main-table'],
    [['a', 'b'], 'DynamoDB Orphan Guard: import a, b']
  ])('names the tables %j', (names, expected) => {
    expect(changeSetDescription(names)).toBe(expected)
  })
  it('stays within the 1,024 characters CreateChangeSet allows', () => {
    const text = changeSetDescription(
      Array.from({ length: 100 }, (_, i) => `pr-5-table-with-a-long-name-${i}`)
    )
    expect(text).toHaveLength(1024)
    expect(text.endsWith('...')).toBe(true)
  })
})

describe('waitForImport: the status from before the import is pending, not a failure', () => {
  const target = (statusBefore: string | null): ImportTarget => ({
    stackId: STACK_ID,
    changeSetId: CHANGE_SET_ARN,
    statusBefore
  })
  const poll = (time: ReturnType<typeof fakeTime>, maxWaitMs = 60_000) => ({
    ...time,
    maxWaitMs,
    pollMs: POLL_MS
  })
  /** DescribeChangeSet's ExecutionStatus, in order (the last one repeats). */
  function givenExecutionStatuses(...statuses: string[]): void {
    let stub = cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN })
    const reply = (ExecutionStatus: string) => ({
      ChangeSetId: CHANGE_SET_ARN,
      Status: 'CREATE_COMPLETE' as const,
      ExecutionStatus: ExecutionStatus as 'AVAILABLE'
    })
    for (const s of statuses.slice(0, -1)) stub = stub.resolvesOnce(reply(s))
    stub.resolves(reply(statuses.at(-1) ?? 'AVAILABLE'))
  }

  it.each<[string, string | null, StackStatus[], number]>([
    [
      'UPDATE_COMPLETE → IMPORT_IN_PROGRESS → IMPORT_COMPLETE',
      'UPDATE_COMPLETE',
      ['UPDATE_COMPLETE', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE'],
      3
    ],
    [
      'REVIEW_IN_PROGRESS → IMPORT_COMPLETE (new stack)',
      'REVIEW_IN_PROGRESS',
      ['REVIEW_IN_PROGRESS', 'IMPORT_COMPLETE'],
      2
    ],
    [
      'CREATE_COMPLETE → IMPORT_COMPLETE (status before unknown)',
      null,
      ['CREATE_COMPLETE', 'IMPORT_COMPLETE'],
      2
    ],
    [
      'UPDATE_ROLLBACK_COMPLETE twice, then IMPORT_COMPLETE',
      'UPDATE_ROLLBACK_COMPLETE',
      ['UPDATE_ROLLBACK_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE'],
      3
    ]
  ])('%s succeeds', async (_case, statusBefore, statuses, polls) => {
    givenStackStatuses(STACK_ID, ...statuses)
    const time = fakeTime()
    await expect(waitForImport(client, target(statusBefore), poll(time))).resolves.toBeUndefined()
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, polls)
    expect(cfn).not.toHaveReceivedCommand(DescribeStackEventsCommand)
    expect(time.sleeps).toEqual(Array.from({ length: polls - 1 }, () => POLL_MS))
  })

  it('a status that never becomes IMPORT_* times out on the injected clock with a message saying the import had not started', async () => {
    givenStackStatuses(STACK_ID, 'UPDATE_COMPLETE')
    const time = fakeTime()
    const err = await waitForImport(client, target('UPDATE_COMPLETE'), poll(time, 30_000)).catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(CloudFormationWaitError)
    const waitError = err as CloudFormationWaitError
    expect(waitError.kind).toBe('timeout')
    expect(waitError.started).toBe(false)
    expect(waitError.status).toBe('UPDATE_COMPLETE')
    expect(waitError.message).toBe(
      `CloudFormation had not started the import into stack ${STACK_ID} after 30 s: the stack still showed UPDATE_COMPLETE`
    )
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000)
    expect(cfn).not.toHaveReceivedCommand(DescribeStackEventsCommand)
  })

  it('an import still running at the limit times out as started', async () => {
    givenStackStatuses(STACK_ID, 'UPDATE_COMPLETE', 'IMPORT_IN_PROGRESS')
    const err = (await waitForImport(client, target('UPDATE_COMPLETE'), poll(fakeTime(), 120_000)).catch(
      (e: unknown) => e
    )) as CloudFormationWaitError
    expect(err.kind).toBe('timeout')
    expect(err.started).toBe(true)
    expect(err.message).toBe(`stack ${STACK_ID} was still IMPORT_IN_PROGRESS after 2 min`)
  })

  it('the IMPORT_COMPLETE of an earlier import is pending while the change set has not run (ExecutionStatus AVAILABLE)', async () => {
    givenStackStatuses(STACK_ID, 'IMPORT_COMPLETE', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE')
    givenExecutionStatuses('AVAILABLE')
    await waitForImport(client, target('IMPORT_COMPLETE'), poll(fakeTime()))
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 3)
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 1)
  })

  it('the same IMPORT_COMPLETE as before is success once the change set says EXECUTE_COMPLETE (import done between two polls)', async () => {
    givenStackStatuses(STACK_ID, 'IMPORT_COMPLETE')
    givenExecutionStatuses('EXECUTE_IN_PROGRESS', 'EXECUTE_COMPLETE')
    await waitForImport(client, target('IMPORT_COMPLETE'), poll(fakeTime()))
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 2)
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 2)
  })

  it('the IMPORT_ROLLBACK_COMPLETE of an earlier import is not taken for this import failing', async () => {
    givenStackStatuses(STACK_ID, 'IMPORT_ROLLBACK_COMPLETE', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE')
    givenExecutionStatuses('AVAILABLE')
    await expect(
      waitForImport(client, target('IMPORT_ROLLBACK_COMPLETE'), poll(fakeTime()))
    ).resolves.toBeUndefined()
    expect(cfn).not.toHaveReceivedCommand(DescribeStackEventsCommand)
  })

  it('the same IMPORT_ROLLBACK_COMPLETE as before is this import failing once the change set says EXECUTE_FAILED', async () => {
    givenStackStatuses(STACK_ID, 'IMPORT_ROLLBACK_COMPLETE')
    givenExecutionStatuses('EXECUTE_FAILED')
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] })
    const err = (await waitForImport(client, target('IMPORT_ROLLBACK_COMPLETE'), poll(fakeTime())).catch(
      (e: unknown) => e
    )) as CloudFormationWaitError
    expect(err.kind).toBe('failed')
    expect(err.status).toBe('IMPORT_ROLLBACK_COMPLETE')
  })

  it('a rollback whose stack events cannot be read still fails as a rollback, with the stack reason', async () => {
    cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackId: STACK_ID,
          StackStatus: 'IMPORT_ROLLBACK_COMPLETE',
          StackStatusReason: 'The following resource(s) failed to import: [MainTable74195DAB].',
          CreationTime: new Date(NOW)
        }
      ]
    })
    cfn.on(DescribeStackEventsCommand).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized to perform: cloudformation:DescribeStackEvents'
      })
    )
    const err = (await waitForImport(client, target('UPDATE_COMPLETE'), poll(fakeTime())).catch(
      (e: unknown) => e
    )) as CloudFormationWaitError
    expect(err).toBeInstanceOf(CloudFormationWaitError)
    expect(err.kind).toBe('failed')
    expect(err.status).toBe('IMPORT_ROLLBACK_COMPLETE')
    expect(err.reason).toBe(
      'The following resource(s) failed to import: [MainTable74195DAB]. (the stack events could not be read: not authorized to perform: cloudformation:DescribeStackEvents)'
    )
  })
})

describe('executeImports follows the stack from its pre-import status', () => {
  function createdAndExecuted(): void {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
    cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
  }

  it('UPDATE_COMPLETE right after ExecuteChangeSet, then IMPORT_IN_PROGRESS and IMPORT_COMPLETE: resolved', async () => {
    createdAndExecuted()
    givenStackStatuses(STACK_ID, 'UPDATE_COMPLETE', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE')
    givenStackLists(STACK_ID, ['MainTable74195DAB', 'pr-5-main-table'])
    const result = await run()
    expect(result.outcome).toBe('resolved')
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 3)
    expect(cfn).not.toHaveReceivedCommand(DescribeStackEventsCommand)
  })

  it("a stack that earlier took an import (IMPORT_COMPLETE) is followed to this import's end", async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    cfn
      .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN })
      .resolvesOnce({ ChangeSetId: CHANGE_SET_ARN, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' })
      .resolves({
        ChangeSetId: CHANGE_SET_ARN,
        Status: 'CREATE_COMPLETE',
        ExecutionStatus: 'EXECUTE_COMPLETE'
      })
    cfn.on(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ARN }).resolves({})
    givenStackStatuses(STACK_ID, 'IMPORT_COMPLETE')
    givenStackLists(STACK_ID, ['MainTable74195DAB', 'pr-5-main-table'])
    const result = await run({ stack: { ...existingStack, status: 'IMPORT_COMPLETE' } })
    expect(result.outcome).toBe('resolved')
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 2)
  })

  it('a stack that never shows the import times out: failed, "had not started", do not deploy', async () => {
    createdAndExecuted()
    givenStackStatuses(STACK_ID, 'UPDATE_COMPLETE')
    const time = fakeTime()
    const result = await run({ limits: { pollMs: POLL_MS, importMaxWaitMs: 30_000 } }, time)
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toBe(
      `CloudFormation had not started the import into ${STACK} after the 30 s time limit (stack still UPDATE_COMPLETE)`
    )
    expect(result.error?.state).toContain('do not deploy until it has run')
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000)
    expect(cfn).not.toHaveReceivedCommand(ListStackResourcesCommand)
  })
})

describe('the CreateChangeSet request is built once', () => {
  it('a real run sends the very request it records as its call and in the artifact', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'FAILED', StatusReason: 'stop here' })
    const result = await run()
    const sent = createChangeSetRequest()
    expect(result.calls[0]).toEqual({
      command: 'CreateChangeSet',
      input: sent,
      note: `imports into stack ${STACK}`
    })
    const file = JSON.parse(await readFile(result.templatePath ?? '', 'utf8')) as Record<string, unknown>
    expect(file.createChangeSetRequest).toEqual(sent)
  })

  it('dry-run for a new stack shows exactly the request a real run sends (no Parameters, no Capabilities)', async () => {
    const stack: StackState = { name: STACK, exists: false }
    const dry = await run({ stack, dryRun: true })
    expect(cfn.calls()).toHaveLength(0)
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'FAILED', StatusReason: 'stop here' })
    await run({ stack })
    expect(createChangeSetRequest()).toEqual(dry.calls[0]?.input)
    expect(dry.calls[0]?.input).not.toHaveProperty('Parameters')
    expect(dry.calls[0]?.input).not.toHaveProperty('Capabilities')
  })
})

describe('what a failed call leaves is said exactly', () => {
  function created(): void {
    givenDeployedTemplate()
    givenChangeSetCreated()
    givenChangeSetStatuses({ Status: 'CREATE_COMPLETE' })
  }

  it('ExecuteChangeSet rejected by CloudFormation (4xx): created but not executed, tables untouched', async () => {
    created()
    cfn.on(ExecuteChangeSetCommand).rejects(
      new CloudFormationServiceException({
        name: 'InvalidChangeSetStatus',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'ChangeSet is in an invalid state'
      })
    )
    const result = await run()
    expect(result.outcome).toBe('failed')
    expect(result.error?.state).toContain(
      'The change set was created but not executed; the tables are untouched'
    )
    expect(cfn).not.toHaveReceivedCommand(DescribeStacksCommand)
  })

  it('ExecuteChangeSet without an answer (network error): the change set may have been executed', async () => {
    created()
    cfn.on(ExecuteChangeSetCommand).rejects(new Error('socket hang up'))
    const result = await run()
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toContain('socket hang up')
    expect(result.error?.state).toContain(`change set ${CHANGE_SET_ARN} may have been executed`)
    expect(result.error?.state).toContain('before deploying')
    expect(result.error?.state).not.toContain('untouched')
  })

  it('a change set that cannot be described is not called FAILED', async () => {
    givenDeployedTemplate()
    givenChangeSetCreated()
    cfn
      .on(DescribeChangeSetCommand)
      .rejects(new Error('not authorized to perform: cloudformation:DescribeChangeSet'))
    const result = await run()
    expect(result.outcome).toBe('failed')
    expect(result.error?.message).toBe(
      `could not follow change set ${CHANGE_SET_ARN}: not authorized to perform: cloudformation:DescribeChangeSet`
    )
    expect(result.error?.state).toContain('The change set was not executed; the tables are untouched')
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })
})
