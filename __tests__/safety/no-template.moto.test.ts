/**
 * Safety rule: without a template that declares it, a table with data is never deleted, under any
 * strategy (nothing says the deploy re-creates it, or with which keys). The plan blocks it; a forged
 * delete or backup-restore entry must still be refused by the executor before any mutating call.
 * An empty table named only by `tables` may still be deleted.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { join } from 'node:path'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { Decision, Strategy } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, putItems, sampleItems } from '../../test-support/orphans.js'
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

const RULE = 'without a template, a table with data is never deleted'
const TABLE = 'pr-7-orders'

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
  ws = workspace({ Resources: {} })
})
afterEach(() => ws.remove())

const STRATEGIES: Array<{ strategy: Strategy; allowDataLoss: boolean; forged: Decision }> = [
  { strategy: 'auto', allowDataLoss: false, forged: 'backup-restore' },
  { strategy: 'backup-restore', allowDataLoss: false, forged: 'backup-restore' },
  { strategy: 'delete', allowDataLoss: true, forged: 'delete' }
]

/** `template` points at a path that does not exist; only `tables` names the table. */
function inputsFor(strategy: Strategy, allowDataLoss: boolean) {
  return makeInputs(ws, {
    stackName: 'pr-7-db',
    strategy,
    allowDataLoss,
    template: join(ws.dir, 'cdk.out'),
    tables: [TABLE]
  })
}

describe(RULE, () => {
  it.each(STRATEGIES)(
    '$strategy (allow-data-loss $allowDataLoss): blocked in the plan, and a forged $forged is refused',
    async ({ strategy, allowDataLoss, forged }) => {
      await makeUnmanagedTable(clients.dynamodb, {
        tableName: TABLE,
        keys: { partition: { name: 'pk', type: 'S' } }
      })
      await putItems(clients.dynamodb, TABLE, sampleItems(5))
      const inputs = inputsFor(strategy, allowDataLoss)
      const check = await runCheck(inputs, clients)
      expect(check.discovery.source).toBe('tables')
      expect(decisionOf(check, TABLE)).toBe('blocked')
      expect(check.plan.entries[0]?.reasons.join(' ')).toMatch(
        new RegExp(`No template exists at ${join(ws.dir, 'cdk.out')}`)
      )

      const mark = rec.calls.length
      const { result } = await executePlan(forge(check, TABLE, forged), inputs, deps(clients))
      expect(result.outcome).toBe('blocked')
      expect(result.stateNote).toMatch(/holds data and no template declares it/)
      expect(result.backupManifests).toEqual([])
      expect(
        rec
          .operations()
          .slice(mark)
          .filter(op => !isReadOnlyOperation(op))
      ).toEqual([])
      expect(await tableContent(clients, TABLE)).toHaveLength(5)
    }
  )

  it('an empty table named only by tables is still deleted (auto)', async () => {
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: TABLE,
      keys: { partition: { name: 'pk', type: 'S' } }
    })
    const inputs = inputsFor('auto', false)
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('delete')
    const { result } = await executePlan(check, inputs, deps(clients))
    expect(result.outcome).toBe('resolved')
    expect(await tableContent(clients, TABLE)).toBeNull()
  })
})
