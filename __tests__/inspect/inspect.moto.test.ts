/**
 * inspect() against a real moto server: orphans are made the real way (CreateStack with
 * DeletionPolicy Retain, then DeleteStack), never by faking tags.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  TagResourceCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand
} from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { inspect } from '../../src/inspect/inspect.js'
import type { Discovery, Finding, Logger, TableSpec } from '../../src/types.js'
import { destroyClients, oneRegion, recordCommandNames, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  makeRetainedOrphan,
  makeUnmanagedTable,
  mergeTemplates,
  putItems,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'

let moto: MotoServer
let clients: AwsClients

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  if (clients) destroyClients(clients)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
})

const quietLogger: Logger = { info: () => {}, warning: () => {}, debug: () => {} }

function spec(tableName: string, stack: string | null = 'pr-5-db', logicalId = 'MainTable'): TableSpec {
  return {
    tableName,
    stack,
    logicalId,
    resourceType: 'AWS::DynamoDB::Table',
    nestedPath: [],
    deletionPolicy: 'Retain',
    updateReplacePolicy: 'Retain',
    properties: null,
    templateFile: null
  }
}

function discovery(...tables: TableSpec[]): Discovery {
  return { source: 'template', stacks: [], tables, notes: [], warnings: [] }
}

async function inspectOne(s: TableSpec): Promise<Finding> {
  const result = await inspect(oneRegion(clients), discovery(s), { identity: null, logger: quietLogger })
  expect(result.findings).toHaveLength(1)
  return result.findings[0] as Finding
}

describe('owner', () => {
  it('is stack when the expected live stack created the table', async () => {
    const stackId = await createStackAndWait(clients, 'pr-5-db', tableTemplate({ tableName: 'pr-5-main' }))

    const result = await inspect(oneRegion(clients), discovery(spec('pr-5-main')), {
      identity: null,
      logger: quietLogger
    })

    expect(result.findings[0]).toMatchObject({ exists: true, owner: 'stack', problems: [] })
    expect(result.stacks).toEqual([
      { name: 'pr-5-db', region: 'us-east-1', exists: true, stackId, status: 'CREATE_COMPLETE' }
    ])
    expect(result.findings[0]?.stack).toEqual(result.stacks[0])
  })

  it('is retained when the table outlived its stack (DeletionPolicy Retain, stack deleted)', async () => {
    await makeRetainedOrphan(clients, { stackName: 'pr-5-db', tableName: 'pr-5-main', items: sampleItems(3) })

    const f = await inspectOne(spec('pr-5-main'))

    expect(f).toMatchObject({ exists: true, owner: 'retained', retainedFrom: 'pr-5-db', hasData: true })
    expect(f.stack).toEqual({ name: 'pr-5-db', region: 'us-east-1', exists: false })
    expect(f.live?.allTags['aws:cloudformation:stack-name']).toBe('pr-5-db')
    expect(Object.keys(f.live?.tags ?? {}).filter(k => k.startsWith('aws:'))).toEqual([])
  })

  it('is retained when its stack was re-created without it: the tag alone never makes it the stack', async () => {
    await makeRetainedOrphan(clients, { stackName: 'pr-5-db', tableName: 'pr-5-main' })
    await createStackAndWait(clients, 'pr-5-db', tableTemplate({ tableName: 'pr-5-other' }))

    const f = await inspectOne(spec('pr-5-main'))

    expect(f).toMatchObject({ owner: 'retained', retainedFrom: 'pr-5-db', stack: { exists: true } })
  })

  it('is unmanaged when the table was made by hand', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'pr-5-main' })

    expect(await inspectOne(spec('pr-5-main'))).toMatchObject({
      exists: true,
      owner: 'unmanaged',
      hasData: false
    })
  })

  it('is other-stack:<name> when another live stack manages the table (moto: found through that stack’s resources)', async () => {
    await createStackAndWait(clients, 'legacy-db', tableTemplate({ tableName: 'pr-5-main' }))

    const f = await inspectOne(spec('pr-5-main'))

    expect(f).toMatchObject({ owner: 'other-stack:legacy-db', stack: { name: 'pr-5-db', exists: false } })
  })

  it('is other-stack:<name> also when no stack is expected (table named only by the tables input)', async () => {
    await createStackAndWait(clients, 'legacy-db', tableTemplate({ tableName: 'pr-5-main' }))

    expect(await inspectOne(spec('pr-5-main', null))).toMatchObject({
      owner: 'other-stack:legacy-db',
      stack: null
    })
  })

  it('is null, with exists false, when the table does not exist', async () => {
    const f = await inspectOne(spec('pr-5-main'))

    expect(f).toMatchObject({ exists: false, owner: null, live: null, hasData: null, problems: [] })
  })
})

describe('data and configuration', () => {
  it('hasData comes from Scan: false for an empty table, true once one item is written', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'pr-5-main' })
    expect((await inspectOne(spec('pr-5-main'))).hasData).toBe(false)

    await putItems(clients.dynamodb, 'pr-5-main', sampleItems(1))
    expect((await inspectOne(spec('pr-5-main'))).hasData).toBe(true)
  })

  it('reads back PITR, TTL, tags (re-tagged key once), deletion protection, keys and billing', async () => {
    await createStackAndWait(
      clients,
      'pr-5-db',
      tableTemplate({
        tableName: 'pr-5-main',
        properties: { DeletionProtectionEnabled: true, Tags: [{ Key: 'team', Value: 'orders' }] }
      })
    )
    // moto's CloudFormation ignores PointInTimeRecoverySpecification and TimeToLiveSpecification,
    // so those are switched on through the DynamoDB API.
    await clients.dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: 'pr-5-main',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }
      })
    )
    await clients.dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'pr-5-main',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true }
      })
    )
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main'
    await clients.dynamodb.send(
      new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'team', Value: 'payments' }] })
    )

    const live = (await inspectOne(spec('pr-5-main'))).live

    expect(live).toMatchObject({
      tableName: 'pr-5-main',
      arn,
      keys: [
        { name: 'pk', type: 'HASH' },
        { name: 'sk', type: 'RANGE' }
      ],
      attributeTypes: { pk: 'S', sk: 'S' },
      billingMode: 'PAY_PER_REQUEST',
      pitr: true,
      ttl: { enabled: true, attributeName: 'expiresAt' },
      deletionProtection: true,
      // moto omits SSEDescription on CloudFormation-made tables: the AWS-owned key.
      sse: { enabled: false },
      stream: { enabled: false },
      tableClass: 'STANDARD',
      tags: { team: 'payments' },
      status: 'ACTIVE'
    })
    expect(live?.allTags['aws:cloudformation:logical-id']).toBe('MainTable')
    expect(live?.unreadable).toBeUndefined()
  })
})

describe('read-only', () => {
  it('makes only read calls, and reads each expected stack once however many tables it has', async () => {
    await createStackAndWait(
      clients,
      'pr-5-db',
      mergeTemplates(
        tableTemplate({ tableName: 'pr-5-a', logicalId: 'A' }),
        tableTemplate({ tableName: 'pr-5-b', logicalId: 'B' })
      )
    )
    await makeRetainedOrphan(clients, { stackName: 'pr-4-db', tableName: 'pr-4-main', items: sampleItems(1) })
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'pr-5-hand' })
    // Fresh clients, so the recording middleware does not outlive this test.
    const recorded = testClients(moto.endpoint)
    const ddbCalls = recordCommandNames(recorded.dynamodb)
    const cfnCalls = recordCommandNames(recorded.cloudformation)

    try {
      const result = await inspect(
        oneRegion(recorded),
        discovery(
          spec('pr-5-a', 'pr-5-db', 'A'),
          spec('pr-5-b', 'pr-5-db', 'B'),
          spec('pr-4-main', 'pr-4-db'),
          spec('pr-5-hand'),
          spec('pr-5-gone')
        ),
        { identity: null, logger: quietLogger }
      )
      expect(result.findings.map(f => [f.tableName, f.owner])).toEqual([
        ['pr-5-a', 'stack'],
        ['pr-5-b', 'stack'],
        ['pr-4-main', 'retained'],
        ['pr-5-hand', 'unmanaged'],
        ['pr-5-gone', null]
      ])
    } finally {
      destroyClients(recorded)
    }

    const all = [...ddbCalls, ...cfnCalls]
    expect(all.filter(name => !/^(Describe|List|Get|Scan)\w*Command$/.test(name))).toEqual([])
    expect(
      cfnCalls.filter(n => n === 'DescribeStacksCommand' || n === 'ListStackResourcesCommand').sort()
    ).toEqual(['DescribeStacksCommand', 'DescribeStacksCommand', 'ListStackResourcesCommand'])
    expect(ddbCalls).toContain('ScanCommand')
  })
})

it('prints how long inspecting 10 tables takes', async () => {
  const inStack = Array.from({ length: 5 }, (_, i) =>
    tableTemplate({ tableName: `pr-9-t${i}`, logicalId: `T${i}` })
  )
  await createStackAndWait(clients, 'pr-9-db', mergeTemplates(...inStack))
  for (let i = 5; i < 10; i++)
    await makeUnmanagedTable(clients.dynamodb, { tableName: `pr-9-t${i}`, items: sampleItems(2) })
  const specs = Array.from({ length: 10 }, (_, i) => spec(`pr-9-t${i}`, 'pr-9-db', `T${i}`))

  const started = performance.now()
  const result = await inspect(oneRegion(clients), discovery(...specs), {
    identity: null,
    logger: quietLogger
  })
  const ms = performance.now() - started

  expect(result.findings.map(f => f.owner)).toEqual([
    ...Array.from({ length: 5 }, () => 'stack'),
    ...Array.from({ length: 5 }, () => 'unmanaged')
  ])
  console.log(`inspect: 10 tables against moto in ${ms.toFixed(0)} ms`)
})
