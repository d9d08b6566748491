/**
 * inspect() with one set of clients per region: every call for a table goes to its own region's
 * clients, a stack for another account is never looked at, and global tables are read as DynamoDB
 * describes them (DescribeTable Replicas for version 2019.11.21, DescribeGlobalTable for the legacy
 * version). The clients are stand-ins that record each command and answer per region.
 */
import { describe, expect, it } from '@jest/globals'
import type { TableDescription } from '@aws-sdk/client-dynamodb'
import { inspect } from '../../src/inspect/inspect.js'
import type { RegionalClients } from '../../src/aws/clients.js'
import type { InspectClients } from '../../src/inspect/inspect.js'
import type { CallerIdentity, Discovery, Finding, Logger, TableSpec } from '../../src/types.js'
import { tableSpec } from '../../test-support/builders.js'

const logger: Logger = { info: () => {}, warning: () => {}, debug: () => {} }
const IDENTITY: CallerIdentity = {
  account: '123456789012',
  arn: 'arn:aws:sts::123456789012:assumed-role/deployer/GitHubActions',
  partition: 'aws',
  userId: 'AROAEXAMPLE:GitHubActions'
}

interface Sent {
  region: string
  command: string
  input: Record<string, unknown>
}

type Answer = (input: Record<string, unknown>) => unknown

/** Answers per region and command name; an unanswered command fails like a missing table/stack. */
function regionalStandIn(answers: Record<string, Record<string, Answer>>): {
  clients: RegionalClients<InspectClients>
  sent: Sent[]
} {
  const sent: Sent[] = []
  const made = new Map<string, InspectClients>()
  const senderFor = (region: string) => ({
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '')
      sent.push({ region, command: name, input: command.input })
      const answer = answers[region]?.[name]
      if (answer) return answer(command.input)
      if (name === 'DescribeTable')
        throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' })
      if (name === 'DescribeGlobalTable')
        throw Object.assign(new Error('not found'), { name: 'GlobalTableNotFoundException' })
      if (name === 'DescribeStacks')
        throw Object.assign(new Error('Stack with id X does not exist'), { name: 'ValidationError' })
      if (name === 'DescribeStackResources')
        throw Object.assign(new Error('Stack for x does not exist'), { name: 'ValidationError' })
      if (name === 'Scan') return { Count: 1 }
      if (name === 'ListTagsOfResource') return { Tags: [] }
      if (name === 'DescribeTimeToLive') return { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } }
      if (name === 'DescribeContinuousBackups')
        return {
          ContinuousBackupsDescription: {
            PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' }
          }
        }
      throw new Error(`unexpected ${name} in ${region}`)
    }
  })
  const clients: RegionalClients<InspectClients> = {
    defaultRegion: 'us-east-1',
    forRegion: region => {
      let c = made.get(region)
      if (!c) {
        const sender = senderFor(region) as unknown as InspectClients['dynamodb']
        c = { dynamodb: sender, cloudformation: sender as unknown as InspectClients['cloudformation'] }
        made.set(region, c)
      }
      return c
    }
  }
  return { clients, sent }
}

function table(
  name: string,
  region: string,
  over: Partial<TableDescription> = {}
): () => { Table: TableDescription } {
  return () => ({
    Table: {
      TableName: name,
      TableArn: `arn:aws:dynamodb:${region}:123456789012:table/${name}`,
      TableStatus: 'ACTIVE',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      ...over
    }
  })
}

const discovery = (...tables: TableSpec[]): Discovery => ({
  source: 'cloud-assembly',
  stacks: [],
  tables,
  notes: [],
  warnings: []
})

async function findings(
  clients: RegionalClients<InspectClients>,
  specs: TableSpec[],
  identity: CallerIdentity | null = IDENTITY
): Promise<Finding[]> {
  return (await inspect(clients, discovery(...specs), { identity, logger })).findings
}

const streamed = {
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const }
}

describe('each table in its own region', () => {
  it('sends every call for a table to its region, and none to another region', async () => {
    const { clients, sent } = regionalStandIn({
      'us-east-1': { DescribeTable: table('east-t', 'us-east-1') },
      'us-west-2': { DescribeTable: table('west-t', 'us-west-2') }
    })
    const [east, west] = await findings(clients, [
      tableSpec({ tableName: 'east-t', stack: 'east', region: 'us-east-1' }),
      tableSpec({ tableName: 'west-t', stack: 'west', region: 'us-west-2' })
    ])
    expect([east?.region, east?.exists, west?.region, west?.exists]).toEqual([
      'us-east-1',
      true,
      'us-west-2',
      true
    ])
    const regionsAsked = (target: string) => [
      ...new Set(
        sent.filter(s => s.input.TableName === target || s.input.StackName === target).map(s => s.region)
      )
    ]
    expect(regionsAsked('west-t')).toEqual(['us-west-2'])
    expect(regionsAsked('west')).toEqual(['us-west-2'])
    expect(regionsAsked('east-t')).toEqual(['us-east-1'])
  })

  it('a spec without a region is inspected in the default region', async () => {
    const { clients } = regionalStandIn({ 'us-east-1': { DescribeTable: table('t', 'us-east-1') } })
    const [f] = await findings(clients, [tableSpec({ tableName: 't' })])
    expect(f?.region).toBe('us-east-1')
  })
})

describe('accounts', () => {
  it('never looks at a table whose stack is pinned to another account', async () => {
    const { clients, sent } = regionalStandIn({
      'us-east-1': { DescribeTable: table('pr-7-foreign', 'us-east-1') }
    })
    const [f] = await findings(clients, [
      tableSpec({
        tableName: 'pr-7-foreign',
        stack: 'pr-7-other-account',
        region: 'us-east-1',
        account: '999999999999'
      })
    ])
    expect(f).toMatchObject({ exists: false, live: null, owner: null, hasData: null })
    expect(f?.notCheckable).toBe(
      'stack pr-7-other-account is for account 999999999999, but these credentials are for account 123456789012: the table cannot be checked with these credentials and is never checked or changed in the wrong account'
    )
    expect(sent).toEqual([])
  })

  it("does not check a pinned stack when the credentials' account is unknown", async () => {
    const { clients, sent } = regionalStandIn({})
    const found = await inspect(
      clients,
      discovery(tableSpec({ tableName: 't', stack: 's', account: '123456789012' })),
      { identity: null, identityProblem: 'GetCallerIdentity: ExpiredToken', logger }
    )
    expect(found.findings[0]?.notCheckable).toMatch(
      /pinned to account 123456789012, and the credentials' account is unknown \(GetCallerIdentity: ExpiredToken\)/
    )
    expect(sent).toEqual([])
  })

  it("checks a stack pinned to the credentials' account", async () => {
    const { clients } = regionalStandIn({ 'us-east-1': { DescribeTable: table('t', 'us-east-1') } })
    const [f] = await findings(clients, [tableSpec({ tableName: 't', account: '123456789012' })])
    expect([f?.notCheckable, f?.exists]).toEqual([undefined, true])
  })
})

describe('global tables', () => {
  it('reads a version 2019.11.21 replica set from DescribeTable, and each other replica in its region', async () => {
    const global = {
      GlobalTableVersion: '2019.11.21',
      Replicas: [{ RegionName: 'us-west-2', ReplicaStatus: 'ACTIVE' as const }]
    }
    const { clients, sent } = regionalStandIn({
      'us-east-1': { DescribeTable: table('g', 'us-east-1', { ...global, ...streamed }) },
      'us-west-2': {
        DescribeTable: table('g', 'us-west-2', {
          ...streamed,
          GlobalTableVersion: '2019.11.21',
          Replicas: [{ RegionName: 'us-east-1' }],
          DeletionProtectionEnabled: true
        })
      }
    })
    const [f] = await findings(clients, [tableSpec({ tableName: 'g', region: 'us-east-1' })])
    expect(f?.live?.globalTable?.version).toBe('2019.11.21')
    expect(f?.live?.globalTable?.regions).toEqual(['us-east-1', 'us-west-2'])
    expect(f?.live?.globalTable?.replicas?.['us-west-2']).toMatchObject({
      tableName: 'g',
      deletionProtection: true
    })
    // DescribeTable already said which version it is: no DescribeGlobalTable.
    expect(sent.filter(s => s.command === 'DescribeGlobalTable')).toEqual([])
  })

  it('finds a version 2017.11.29 (Legacy) global table through DescribeGlobalTable', async () => {
    const { clients } = regionalStandIn({
      'us-east-1': {
        DescribeTable: table('g', 'us-east-1', streamed),
        DescribeGlobalTable: () => ({
          GlobalTableDescription: {
            ReplicationGroup: [{ RegionName: 'eu-west-1' }, { RegionName: 'us-east-1' }]
          }
        })
      }
    })
    const [f] = await findings(clients, [tableSpec({ tableName: 'g' })])
    expect(f?.live?.globalTable).toEqual({ version: '2017.11.29', regions: ['eu-west-1', 'us-east-1'] })
  })

  it('asks DescribeGlobalTable only of a table whose stream has new and old images (legacy replicas need one)', async () => {
    const { clients, sent } = regionalStandIn({ 'us-east-1': { DescribeTable: table('t', 'us-east-1') } })
    const [f] = await findings(clients, [tableSpec({ tableName: 't' })])
    expect(f?.live?.globalTable).toBeUndefined()
    expect(sent.filter(s => s.command === 'DescribeGlobalTable')).toEqual([])
  })

  it('a failed DescribeGlobalTable leaves the replication unknown, as a problem', async () => {
    const { clients } = regionalStandIn({
      'us-east-1': {
        DescribeTable: table('g', 'us-east-1', streamed),
        DescribeGlobalTable: () => {
          throw Object.assign(new Error('not authorized to perform dynamodb:DescribeGlobalTable'), {
            name: 'AccessDeniedException'
          })
        }
      }
    })
    const [f] = await findings(clients, [tableSpec({ tableName: 'g' })])
    expect(f?.live?.replicationUnknown).toBe(
      'DescribeGlobalTable failed: not authorized to perform dynamodb:DescribeGlobalTable'
    )
    expect(f?.problems).toContain(
      'DescribeGlobalTable failed: not authorized to perform dynamodb:DescribeGlobalTable'
    )
  })

  it("reports a namesake table in another replica region of the template's global table", async () => {
    const { clients, sent } = regionalStandIn({
      'us-east-1': { DescribeTable: table('g', 'us-east-1') },
      'eu-west-1': { DescribeTable: table('g', 'eu-west-1') }
    })
    const spec = tableSpec({
      tableName: 'g',
      resourceType: 'AWS::DynamoDB::GlobalTable',
      region: 'us-east-1',
      replicaRegions: ['us-east-1', 'eu-west-1', 'ap-south-1']
    })
    const [f] = await findings(clients, [spec])
    expect(f?.replicaOrphans).toEqual([{ region: 'eu-west-1' }])
    expect(
      sent
        .filter(s => s.command === 'DescribeTable')
        .map(s => s.region)
        .sort()
    ).toEqual(['ap-south-1', 'eu-west-1', 'us-east-1'])
  })

  it('a replica of the live global table is not an orphan, and a missing main table still has its replica regions checked', async () => {
    const { clients } = regionalStandIn({
      'us-east-1': {
        DescribeTable: table('g', 'us-east-1', {
          GlobalTableVersion: '2019.11.21',
          Replicas: [{ RegionName: 'eu-west-1' }]
        })
      },
      'eu-west-1': {
        DescribeTable: table('g', 'eu-west-1', {
          GlobalTableVersion: '2019.11.21',
          Replicas: [{ RegionName: 'us-east-1' }]
        })
      }
    })
    const spec = tableSpec({
      tableName: 'g',
      resourceType: 'AWS::DynamoDB::GlobalTable',
      region: 'us-east-1',
      replicaRegions: ['us-east-1', 'eu-west-1']
    })
    expect((await findings(clients, [spec]))[0]?.replicaOrphans).toBeUndefined()

    const onlyThere = regionalStandIn({ 'eu-west-1': { DescribeTable: table('g', 'eu-west-1') } })
    const [f] = await findings(onlyThere.clients, [spec])
    expect([f?.exists, f?.replicaOrphans]).toEqual([false, [{ region: 'eu-west-1' }]])
  })
})
