/**
 * Safety rule: a stale backup is never written back, and a table that is owed a restore is never
 * deleted by the action. Without s3-bucket (aws-backup: true) the only record of a restore is the
 * restored-from tag on the restored table, which goes with it: so
 *   1. a table whose owed restore has not been put into it (the live instance is not the one the
 *      owed set was taken of, and no restore is recorded) is never deleted or backed up and deleted:
 *      the plan blocks every strategy on it, and a forged plan is refused by the executor's last
 *      check, before any backup or delete;
 *   2. a newer safety-net backup of strategy delete of a later table instance (created after the
 *      set was taken, which rule 1 let go, so it owed nothing) supersedes the set: after the
 *      restored table was emptied and deleted by strategy delete and the deploy created it again,
 *      nothing is owed and phase restore writes nothing; the retention cleanup retires the old set.
 *
 * Seen to fail without its guard: with the owed check taken out of execute/safety.ts
 * (assertNotOwed returning at once), the forged-plan test fails (the table is deleted); with the
 * supersede rule taken out of inspect/owed-restores.ts, the sequence test fails (phase restore
 * writes the stale backup's 20 items into the new table).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { listTableBackups } from '../../src/aws/backup.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { runPhase, type PhaseDeps } from '../../src/run/run-phase.js'
import type { Inputs, Strategy } from '../../src/types.js'
import { oneRegion } from '../../test-support/aws-clients.js'
import {
  decisionOf,
  deps,
  fakeTime,
  forge,
  makeInputs,
  quietLogger,
  runCheck,
  startRecordedMoto,
  stopRecordedMoto,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'
import type { MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  deleteStackAndWait,
  makeUnmanagedTable,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'
import type { RecordingProxy } from '../../test-support/recording-proxy.js'

const RULE = 'a table owed a restore is never deleted, and a stale backup is never written back'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
/** Partition key only (the first live table has a sort key: backup-restore); retained when its stack goes. */
const TEMPLATE = tableTemplate({
  tableName: TABLE,
  keys: { partition: { name: 'pk', type: 'S' } },
  deletionPolicy: 'Retain'
})
const HOUR = 3_600_000
const DAY = 24 * HOUR

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let runners: Workspace[] = []

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto())
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
})
afterEach(() => {
  for (const w of runners) w.remove()
  runners = []
})

function freshRunner(): Workspace {
  const w = workspace(TEMPLATE)
  runners.push(w)
  return w
}

function phaseDeps(at: number): PhaseDeps {
  return { clients: oneRegion(clients), logger: quietLogger, clock: fakeTime(at), runId: `run-${at}` }
}

function inputsOn(ws: Workspace, over: Partial<Inputs> = {}): Inputs {
  return makeInputs(ws, { awsBackup: true, strategy: 'auto', ...over, stackName: STACK })
}

/** backup-restore of the first instance (its on-demand backup B is the set), deleted. */
async function backedUpAndDeleted(at: number): Promise<string> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(20) })
  const first = await runPhase(inputsOn(freshRunner()), phaseDeps(at))
  expect(first.result.outcome).toBe('resolved')
  expect(await tableContent(clients, TABLE)).toBeNull()
  expect(first.result.pendingRestores).toEqual([expect.objectContaining({ table: TABLE })])
  const backups = await listTableBackups(clients.dynamodb, TABLE)
  expect(backups).toHaveLength(1)
  return backups[0]?.arn as string
}

async function emptyTable(): Promise<void> {
  for (let i = 0; i < 20; i++)
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: `item-${i}` } } }))
  expect(await tableContent(clients, TABLE)).toEqual([])
}

describe(RULE, () => {
  it('the restored table emptied and deleted by strategy delete, the deploy creates it again: nothing is owed, phase restore writes nothing, the old set is retired', async () => {
    const base = Date.now()
    const backup = await backedUpAndDeleted(base)

    // The deploy creates the second instance; phase restore loads B into it and tags it.
    const stackId = await createStackAndWait(clients, STACK, TEMPLATE)
    const restored = await runPhase(inputsOn(freshRunner(), { phase: 'restore' }), phaseDeps(base + HOUR))
    expect(restored.result.outcome).toBe('restored')
    expect(await tableContent(clients, TABLE)).toHaveLength(20)
    // Without s3-bucket the step log says the tag is the restore's only record.
    expect(restored.result.steps).toContainEqual(
      expect.objectContaining({
        action: 'record restore',
        detail: expect.stringContaining(
          'the only record of this restore: it goes with the table, so if the table is deleted outside the action'
        )
      })
    )

    // Its stack goes (the table is retained), the table is emptied, strategy delete deletes it.
    await deleteStackAndWait(clients.cloudformation, stackId)
    await emptyTable()
    const deleted = await runPhase(
      inputsOn(freshRunner(), { strategy: 'delete' }),
      phaseDeps(base + 2 * HOUR)
    )
    expect(deleted.result.outcome).toBe('resolved')
    expect(await tableContent(clients, TABLE)).toBeNull()
    const safetyNet = (await listTableBackups(clients.dynamodb, TABLE)).filter(b =>
      b.name.includes('_delete_')
    )
    expect(safetyNet).toHaveLength(1)

    // The deploy creates the third instance: nothing is owed, nothing is written into it.
    await createStackAndWait(clients, STACK, TEMPLATE)
    const next = await runPhase(inputsOn(freshRunner()), phaseDeps(base + 3 * HOUR))
    expect(next.result.outcome).toBe('nothing-to-do')
    expect(next.result.pendingRestores).toEqual([])
    const restore = await runPhase(inputsOn(freshRunner(), { phase: 'restore' }), phaseDeps(base + 4 * HOUR))
    expect(restore.result.pendingRestores ?? []).toEqual([])
    expect(restore.result.steps.filter(s => s.status === 'done')).toEqual([])
    expect(await tableContent(clients, TABLE)).toEqual([])

    // Retention: B is superseded (not owed), so once old it is deleted; the safety net is kept.
    const later = await runPhase(
      inputsOn(freshRunner(), { awsBackupRetentionDays: 14 }),
      phaseDeps(base + 20 * DAY)
    )
    expect(later.result.deletedBackups?.map(b => b.arn)).toEqual([backup])
    const left = await listTableBackups(clients.dynamodb, TABLE)
    expect(left.map(b => b.arn)).toEqual(safetyNet.map(b => b.arn))
  })

  it('a table owed a restore that was never put into it: every strategy blocks, forged deletes are refused, it keeps its items and the restore stays owed', async () => {
    const backup = await backedUpAndDeleted(Date.now())
    // A table of the same name made outside the stack, with items of its own.
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: TABLE,
      keys: { partition: { name: 'pk', type: 'S' } },
      items: sampleItems(3).map(({ pk, n }) => ({ pk, n }) as never)
    })
    const before = await tableContent(clients, TABLE)
    const ws = freshRunner()
    for (const [strategy, allowDataLoss] of [
      ['auto', false],
      ['backup-restore', false],
      ['delete', true]
    ] as Array<[Strategy, boolean]>) {
      const check = await runCheck(inputsOn(ws, { strategy, allowDataLoss }), clients)
      const entry = check.plan.entries.find(e => e.table === TABLE)
      if (strategy === 'auto') {
        // It holds data and matches the template: adopted as it is (nothing deleted), not re-created.
        expect(entry?.decision).toBe('import')
      } else {
        expect(entry?.decision).toBe('blocked')
        expect(entry?.reasons.join(' ')).toContain(`it is owed the restore of ${backup}`)
        expect(entry?.reasons.join(' ')).toMatch(/phase: restore/)
      }
      for (const decision of ['delete', 'backup-restore'] as const) {
        const forged = forge(check, TABLE, decision)
        expect(decisionOf(forged, TABLE)).toBe(decision)
        const mark = rec.calls.length
        const result = await executePlan(forged, inputsOn(ws, { strategy, allowDataLoss }), deps(clients))
        expect(result.result.outcome).toBe('blocked')
        expect(result.result.stateNote).toContain(
          `Refusing to delete ${TABLE}: it is owed the restore of ${backup}`
        )
        // Nothing was backed up or deleted.
        const calls = rec.calls.slice(mark).map(c => c.operation)
        expect(calls.filter(op => /\.(DeleteTable|CreateBackup|UpdateTable)$/.test(op))).toEqual([])
      }
    }
    expect(await tableContent(clients, TABLE)).toEqual(before)
    const after = await runPhase(inputsOn(freshRunner()), phaseDeps(Date.now() + HOUR))
    expect(after.result.pendingRestores).toEqual([expect.objectContaining({ table: TABLE, backup })])
  })
})
