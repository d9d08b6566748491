/**
 * Safety rule: a table that replicates to another region is never deleted or re-created (a delete
 * drops one replica while the others live on; a backup-restore would copy one region). The planner
 * blocks it; a forged delete or backup-restore entry must still be refused by the executor's last
 * check against AWS, before any backup or delete. moto never reports replicas, so the recording proxy
 * answers DescribeTable (version 2019.11.21) and DescribeGlobalTable (legacy) as DynamoDB does.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { Decision, Strategy } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import type { RecordingProxy } from '../../test-support/recording-proxy.js'
import {
  decisionOf,
  deps,
  forge,
  makeInputs,
  runCheck,
  startRecordedMoto,
  stopRecordedMoto,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const TABLE = 'pr-7-global'
const STACK = 'pr-7-east'
// The template wants another key than the live table has: without replication, auto would re-create it.
const TEMPLATE = tableTemplate({
  tableName: TABLE,
  keys: { partition: { name: 'id', type: 'S' } },
  properties: { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } }
})

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let ws: Workspace

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto())
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
  for (const name of Object.keys(rec.globalTables)) delete rec.globalTables[name]
  ws = workspace(TEMPLATE)
  await makeUnmanagedTable(clients.dynamodb, {
    tableName: TABLE,
    stream: 'NEW_AND_OLD_IMAGES',
    items: sampleItems(7)
  })
})
afterEach(() => ws.remove())

const FORGED: Array<{ decision: Decision; strategy: Strategy; allowDataLoss: boolean }> = [
  { decision: 'delete', strategy: 'delete', allowDataLoss: true },
  { decision: 'backup-restore', strategy: 'backup-restore', allowDataLoss: false }
]

async function expectNeverDeleted(): Promise<void> {
  const before = await tableContent(clients, TABLE)
  for (const { decision, strategy, allowDataLoss } of FORGED) {
    const inputs = makeInputs(ws, { stackName: STACK, strategy, allowDataLoss, awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect([decision, decisionOf(check, TABLE)]).toEqual([decision, 'blocked'])

    rec.calls.length = 0
    const { result } = await executePlan(forge(check, TABLE, decision), inputs, deps(clients))
    expect([decision, result.outcome]).toEqual([decision, 'blocked'])
    expect(result.stateNote).toMatch(
      /Refusing to delete pr-7-global: it is a replica of a global table that also has replicas in us-west-2/
    )
    const mutating = rec
      .operations()
      .filter(op => /CreateBackup|DeleteTable|UpdateTable|BatchWriteItem/.test(op))
    expect([decision, mutating]).toEqual([decision, []])
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }
}

describe('a replicated table is never deleted or re-created', () => {
  it('version 2019.11.21 (DescribeTable Replicas)', async () => {
    rec.globalTables[TABLE] = { regions: ['us-east-1', 'us-west-2'] }
    await expectNeverDeleted()
  })

  it('version 2017.11.29 (Legacy; DescribeGlobalTable)', async () => {
    rec.globalTables[TABLE] = { regions: ['us-east-1', 'us-west-2'], version: '2017.11.29' }
    await expectNeverDeleted()
  })

  it('the same table without replicas is re-created as the plan says (the rule is about replicas alone)', async () => {
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('backup-restore')
  })
})
