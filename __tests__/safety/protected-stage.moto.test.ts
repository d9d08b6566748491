/**
 * Safety rule: a protected stage never loses a table through the action. Every strategy that can
 * delete (auto, delete with allow-data-loss, backup-restore) on a protected stage: the planner
 * blocks, nothing is changed, and forged delete / backup-restore entries are refused by the
 * executor's own check before any mutating call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { Check } from '../../src/types.js'
import type { Decision, Strategy } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, mergeTemplates, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import { isReadOnlyOperation, type RecordingProxy } from '../../test-support/recording-proxy.js'
import {
  decisionOf,
  deps,
  forge,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace,
  startRecordedMoto,
  stopRecordedMoto
} from '../../test-support/execution.js'

const RULE = 'a protected stage never loses a table through the action'
const STAGE = 'prod'
const FULL = 'prod-orders'
const EMPTY = 'prod-sessions'
const STACK = 'prod-db'
/** Partition key only in the template: a blocking key difference for both live tables. */
const pkOnly = { partition: { name: 'pk', type: 'S' as const } }
const TEMPLATE = mergeTemplates(
  tableTemplate({ tableName: FULL, logicalId: 'Orders', keys: pkOnly }),
  tableTemplate({ tableName: EMPTY, logicalId: 'Sessions', keys: pkOnly })
)

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
  ws = workspace(TEMPLATE)
})
afterEach(() => ws.remove())

/** One table forged to `decision`, the other to none: each table meets the executor's check alone. */
function forgeOne(check: Check, table: string, decision: Decision): Check {
  return forge(forge(check, table, decision), table === FULL ? EMPTY : FULL, 'none')
}

const STRATEGIES: Array<{ strategy: Strategy; allowDataLoss: boolean }> = [
  { strategy: 'auto', allowDataLoss: false },
  { strategy: 'delete', allowDataLoss: true },
  { strategy: 'backup-restore', allowDataLoss: false }
]

describe(RULE, () => {
  it('auto, delete with allow-data-loss and backup-restore on a protected stage: blocked, forged entries refused, both tables and their items survive', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: FULL, items: sampleItems(20) })
    await makeUnmanagedTable(clients.dynamodb, { tableName: EMPTY })
    const before = { full: await tableContent(clients, FULL), empty: await tableContent(clients, EMPTY) }
    expect(before.full).toHaveLength(20)
    const mark = rec.calls.length

    for (const { strategy, allowDataLoss } of STRATEGIES) {
      const inputs = makeInputs(ws, {
        stage: STAGE,
        stackName: STACK,
        strategy,
        allowDataLoss,
        awsBackup: true
      })
      const check = await runCheck(inputs, clients)
      expect(check.plan.policy.protectedStage).toBe(true)
      expect([decisionOf(check, FULL), decisionOf(check, EMPTY)]).toEqual(['blocked', 'blocked'])

      const planned = await executePlan(check, inputs, deps(clients))
      expect(planned.result.outcome).toBe('blocked')
      expect(planned.result.steps).toEqual([])

      for (const [table, decision] of [FULL, EMPTY].flatMap(t =>
        (['delete', 'backup-restore'] as const).map(d => [t, d] as const)
      )) {
        const { result } = await executePlan(forgeOne(check, table, decision), inputs, deps(clients))
        expect(result.outcome).toBe('blocked')
        expect(result.stateNote).toMatch(new RegExp(`Refusing to delete ${table}: stage prod is protected`))
        expect(result.steps.filter(s => s.status === 'done')).toEqual([])
        expect(result.backupArns).toEqual([])
        expect(result.backupManifests).toEqual([])
      }
    }

    expect(
      rec
        .operations()
        .slice(mark)
        .filter(op => !isReadOnlyOperation(op))
    ).toEqual([])
    expect(await tableContent(clients, FULL)).toEqual(before.full)
    expect(await tableContent(clients, EMPTY)).toEqual(before.empty)
  })
})
