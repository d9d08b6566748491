/**
 * Safety rule: a protected stage never loses a table through the action, and neither does a
 * protected account (protected-accounts: moto's STS answers 123456789012), whatever the stage. Every strategy that can
 * delete (auto, delete with allow-data-loss, backup-restore) on a protected stage: the planner
 * blocks, nothing is changed, and forged delete / backup-restore entries are refused by the
 * executor's own check before any mutating call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { STSClient } from '@aws-sdk/client-sts'
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

const ACCOUNT_RULE = 'a protected account never loses a table, whatever the stage'
const MOTO_ACCOUNT = '123456789012'
const PR = 'pr-5'
const PR_FULL = 'pr-5-orders'
const PR_EMPTY = 'pr-5-sessions'
const PR_TEMPLATE = mergeTemplates(
  tableTemplate({ tableName: PR_FULL, logicalId: 'Orders', keys: pkOnly }),
  tableTemplate({ tableName: PR_EMPTY, logicalId: 'Sessions', keys: pkOnly })
)

describe(ACCOUNT_RULE, () => {
  let prWs: Workspace
  beforeEach(() => {
    prWs = workspace(PR_TEMPLATE)
  })
  afterEach(() => prWs.remove())

  const prInputs = (protectedAccounts: string[], strategy: Strategy = 'auto', allowDataLoss = false) =>
    makeInputs(prWs, { stage: PR, stackName: 'pr-5-db', strategy, allowDataLoss, protectedAccounts })

  it('the credentials account is in protected-accounts: a PR stage behaves as protected, says why, forged deletes are refused, nothing changes', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: PR_FULL, items: sampleItems(12) })
    await makeUnmanagedTable(clients.dynamodb, { tableName: PR_EMPTY })
    const before = {
      full: await tableContent(clients, PR_FULL),
      empty: await tableContent(clients, PR_EMPTY)
    }
    const mark = rec.calls.length

    for (const { strategy, allowDataLoss } of STRATEGIES) {
      const inputs = prInputs(['111111111111', MOTO_ACCOUNT], strategy, allowDataLoss)
      const check = await runCheck(inputs, clients)
      expect(check.identity?.account).toBe(MOTO_ACCOUNT)
      expect(check.plan.policy).toMatchObject({
        protectedStage: true,
        protectedBecause: `account ${MOTO_ACCOUNT} is protected (protected-accounts)`
      })
      expect([decisionOf(check, PR_FULL), decisionOf(check, PR_EMPTY)]).toEqual(['blocked', 'blocked'])
      for (const entry of check.plan.entries)
        expect(entry.reasons.join(' ')).toMatch(/account 123456789012 is protected \(protected-accounts\)/i)

      const planned = await executePlan(check, inputs, deps(clients))
      expect(planned.result.outcome).toBe('blocked')
      for (const [table, decision] of [PR_FULL, PR_EMPTY].flatMap(t =>
        (['delete', 'backup-restore'] as const).map(d => [t, d] as const)
      )) {
        const other = table === PR_FULL ? PR_EMPTY : PR_FULL
        const forged = forge(forge(check, table, decision), other, 'none')
        const { result } = await executePlan(forged, inputs, deps(clients))
        expect(result.outcome).toBe('blocked')
        expect(result.stateNote).toMatch(
          new RegExp(`Refusing to delete ${table}: account ${MOTO_ACCOUNT} is protected`)
        )
        expect(result.backupArns).toEqual([])
      }
    }
    expect(
      rec
        .operations()
        .slice(mark)
        .filter(op => !isReadOnlyOperation(op))
    ).toEqual([])
    expect(await tableContent(clients, PR_FULL)).toEqual(before.full)
    expect(await tableContent(clients, PR_EMPTY)).toEqual(before.empty)
  })

  it('an unknown account (GetCallerIdentity fails) counts as protected when protected-accounts is set', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: PR_EMPTY })
    const deadSts = new STSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1
    })
    try {
      const check = await runCheck(prInputs([MOTO_ACCOUNT]), { ...clients, sts: deadSts })
      expect(check.identity).toBeNull()
      expect(check.plan.policy.protectedStage).toBe(true)
      expect(check.plan.policy.protectedBecause).toMatch(/could not be read/)
      expect(decisionOf(check, PR_EMPTY)).not.toBe('delete')
    } finally {
      deadSts.destroy()
    }
  })

  it('another account, or no protected-accounts: the PR stage is not protected (auto deletes the empty orphan)', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: PR_EMPTY })
    for (const accounts of [[], ['210987654321']]) {
      const check = await runCheck(prInputs(accounts), clients)
      expect(check.plan.policy.protectedStage).toBe(false)
      expect(decisionOf(check, PR_EMPTY)).toBe('delete')
    }
  })
})
