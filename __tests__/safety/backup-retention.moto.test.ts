/**
 * Safety rules of aws-backup-retention-days: the action deletes only its own on-demand backups of
 * this stage, and never one from which a restore is still owed, however old it is. The flow is the
 * real one: a pre-deploy run backs a table up and deletes it, later runs (a fake clock moved on by
 * weeks) find the backup owed, the restore step records its restore, and only then does a
 * pre-deploy run delete it; backups of another stage and hand-made ones of similar names on the
 * same table stay throughout.
 *
 * Seen to fail without its guard: with the `owed` case taken out of plan/backup-retention.ts
 * (whyItMayGo), the owed backup is deleted by the run 30 days later and the first test fails; with
 * the stage check taken out of both the owed lookup's listing (inspect/owed-restores.ts) and
 * backupsToRetire, the other stage's backup is deleted and the second test fails.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { CreateBackupCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { listTableBackups } from '../../src/aws/backup.js'
import { backupTimestamp, onDemandBackupName } from '../../src/data/backup-set.js'
import { DAY_MS } from '../../src/plan/backup-retention.js'
import { runPhase, type PhaseDeps } from '../../src/run/run-phase.js'
import type { Inputs } from '../../src/types.js'
import { oneRegion } from '../../test-support/aws-clients.js'
import {
  fakeTime,
  makeInputs,
  quietLogger,
  startRecordedMoto,
  stopRecordedMoto,
  workspace,
  type Workspace
} from '../../test-support/execution.js'
import type { MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  makeUnmanagedTable,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'
import type { RecordingProxy } from '../../test-support/recording-proxy.js'

const RULE = 'the action deletes only its own backups of this stage, and never one still owed'
const STAGE = 'pr-7'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
/** Partition key only: the live table's sort key makes this a blocking difference → backup-restore. */
const TEMPLATE = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let runners: Workspace[] = []
/** The real time of the first run (moto stamps the backups with it); later runs move on from it. */
let start: number

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto())
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
  start = Date.now()
})
afterEach(() => {
  for (const w of runners) w.remove()
  runners = []
})

/** A run of the phase on a fresh runner, `days` after the first. */
function run(days: number, over: Partial<Omit<Inputs, 'stackName'>> = {}) {
  const ws = workspace(TEMPLATE)
  runners.push(ws)
  const deps: PhaseDeps = {
    clients: oneRegion(clients),
    logger: quietLogger,
    clock: fakeTime(start + days * DAY_MS),
    runId: `run-${days}`
  }
  return runPhase(
    makeInputs(ws, { awsBackup: true, stage: STAGE, strategy: 'auto', ...over, stackName: STACK }),
    deps
  )
}

async function backupNames(): Promise<string[]> {
  return (await listTableBackups(clients.dynamodb, TABLE)).map(b => b.name).sort()
}

/** The table backed up and deleted by a pre-deploy run: its on-demand backup's name. */
async function backedUpAndDeleted(): Promise<string> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(10) })
  const first = await run(0)
  expect(first.result.outcome).toBe('resolved')
  expect(first.result.backupArns).toHaveLength(1)
  const [name] = await backupNames()
  return name as string
}

describe(RULE, () => {
  it('a backup still owed is kept however old, until its restore is recorded; then a pre-deploy run deletes it', async () => {
    const own = await backedUpAndDeleted()
    expect(own).toBe(onDemandBackupName(STAGE, 'restore', start))

    // The deploy failed: the table is gone and its restore owed, 30 days on.
    const stillOwed = await run(30)
    expect(stillOwed.result.pendingRestores).toEqual([
      expect.objectContaining({ table: TABLE, source: 'aws-backup' })
    ])
    expect(stillOwed.result.deletedBackups).toEqual([])
    expect(await backupNames()).toEqual([own])

    // Deployed, not restored yet: the new table does not hold the data; still owed, still kept.
    await createStackAndWait(clients, STACK, TEMPLATE)
    const deployed = await run(31)
    expect(deployed.result.pendingRestores).toHaveLength(1)
    expect(deployed.result.deletedBackups).toEqual([])
    expect(await backupNames()).toEqual([own])

    // Restored and verified (recorded on the table): the next pre-deploy run deletes it.
    const restore = await run(31, { phase: 'restore' })
    expect(restore.result.outcome).toBe('restored')
    expect(restore.result.deletedBackups).toBeUndefined() // the restore step never deletes backups
    const after = await run(32)
    expect(after.result.pendingRestores).toEqual([])
    expect(after.result.deletedBackups).toEqual([expect.objectContaining({ table: TABLE, name: own })])
    expect(await backupNames()).toEqual([])
  })

  it("another stage's backup and hand-made backups of similar names on the same table are never deleted", async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(10) })
    const ts = backupTimestamp(start)
    const foreign = [
      onDemandBackupName('pr-70', 'restore', start),
      onDemandBackupName('pr-7-old', 'delete', start),
      `orphan-guard_${ts}_restore_pr-7.bak`,
      `orphan-guard-${ts}_restore_pr-7`,
      `Orphan-Guard_${ts}_restore_pr-7`,
      `orphan-guard_${ts}_restore_`,
      `${TABLE}-by-hand`
    ]
    for (const name of foreign)
      await clients.dynamodb.send(new CreateBackupCommand({ TableName: TABLE, BackupName: name }))
    const first = await run(0)
    expect(first.result.outcome).toBe('resolved')
    const own = onDemandBackupName(STAGE, 'restore', start)
    await createStackAndWait(clients, STACK, TEMPLATE)
    expect((await run(1, { phase: 'restore' })).result.outcome).toBe('restored')

    const later = await run(60)
    expect(later.result.deletedBackups?.map(b => b.name)).toEqual([own])
    expect(await backupNames()).toEqual([...foreign].sort())
  })
})
