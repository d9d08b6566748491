/**
 * Safety rule: a table owned by a live stack is never touched. The planner leaves such a table
 * alone (owner `stack` → none, owner `other-stack:X` → blocked); a forged delete or
 * backup-restore entry must still be refused by the executor before any mutating call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { Decision, Strategy } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import { createStackAndWait, putItems, sampleItems, tableTemplate } from '../../test-support/orphans.js'
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

const RULE = 'a table owned by a live stack is never touched'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
const OTHER = 'pr-7-legacy'
const TEMPLATE = tableTemplate({ tableName: TABLE })

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

/** Forged entries, each with the policy that lets nothing but the ownership check stand in the way. */
const FORGED: Array<{ decision: Decision; strategy: Strategy; allowDataLoss: boolean }> = [
  { decision: 'delete', strategy: 'delete', allowDataLoss: true },
  { decision: 'backup-restore', strategy: 'backup-restore', allowDataLoss: false }
]

async function expectUntouched(owningStack: string, planned: Decision): Promise<void> {
  await createStackAndWait(clients, owningStack, TEMPLATE)
  await putItems(clients.dynamodb, TABLE, sampleItems(12))
  const before = await tableContent(clients, TABLE)
  expect(before).toHaveLength(12)

  for (const { decision, strategy, allowDataLoss } of FORGED) {
    const inputs = makeInputs(ws, { stackName: STACK, strategy, allowDataLoss, awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(check.inspection.findings[0]?.owner).toBe(owningStack === STACK ? 'stack' : `other-stack:${OTHER}`)
    expect(decisionOf(check, TABLE)).toBe(planned)

    // As planned: nothing is done to it.
    const mark = rec.calls.length
    const plannedRun = await executePlan(check, inputs, deps(clients))
    expect(plannedRun.result.steps).toEqual([])

    // Forged: the executor's own check against AWS refuses.
    const { result } = await executePlan(forge(check, TABLE, decision), inputs, deps(clients))
    expect(result.outcome).toBe('blocked')
    expect(result.stateNote).toMatch(new RegExp(`stack ${owningStack} owns it`))
    expect(result.stateNote).toMatch(/nothing was deleted/)
    expect(result.backupManifests).toEqual([])
    expect(result.backupArns).toEqual([])
    expect(
      rec
        .operations()
        .slice(mark)
        .filter(op => !isReadOnlyOperation(op))
    ).toEqual([])
  }
  expect(await tableContent(clients, TABLE)).toEqual(before)
}

describe(RULE, () => {
  it('owner stack: the planner says none; a forged delete or backup-restore is refused, no mutating call, table and items intact', async () => {
    await expectUntouched(STACK, 'none')
  })

  it('owner other-stack: the planner says blocked; a forged delete or backup-restore is refused, no mutating call, table and items intact', async () => {
    await expectUntouched(OTHER, 'blocked')
  })
})
