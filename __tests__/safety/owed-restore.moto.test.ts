/**
 * Safety rule: a restore the action owes is remembered in AWS, not on the runner. Once a table
 * was deleted after its backup, every later run, on any runner, says that the table owes a
 * restore and from where, until a verified restore is recorded in AWS; nothing on the runner's
 * disk can make it forget (the marker file an earlier version wrote is not a record), and a
 * restore that was not verified is not recorded.
 *
 * Seen to fail without its guard: with the owed lookup taken out of the pre-deploy phase
 * (run-phase.ts owedAfterPreDeploy returning nothing), the first two tests fail; with the record
 * written before the verification, the third does.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { AwsClients } from '../../src/aws/clients.js'
import { restoreBackups } from '../../src/execute/restore-backups.js'
import { runPhase, type PhaseDeps } from '../../src/run/run-phase.js'
import type { Inputs } from '../../src/types.js'
import { oneRegion } from '../../test-support/aws-clients.js'
import {
  fakeTime,
  makeInputs,
  quietLogger,
  startRecordedMoto,
  stopRecordedMoto,
  tableContent,
  T0,
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
import { startTamperProxy } from '../../test-support/scan-tamper-proxy.js'
import { testClients, destroyClients } from '../../test-support/aws-clients.js'

const RULE = 'a restore the action owes is remembered in AWS, not on the runner'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
/** Partition key only: the live table's sort key makes this a blocking difference → backup-restore. */
const TEMPLATE = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })
const HOUR = 3_600_000

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

/** A fresh runner: an empty workspace with the template, nothing else. */
function freshRunner(): Workspace {
  const w = workspace(TEMPLATE)
  runners.push(w)
  return w
}

function phaseDeps(at: number, c: AwsClients = clients): PhaseDeps {
  return { clients: oneRegion(c), logger: quietLogger, clock: fakeTime(at), runId: `run-${at}` }
}

function inputsOn(ws: Workspace, over: Partial<Inputs> = {}): Inputs {
  return makeInputs(ws, { awsBackup: true, ...over, stackName: STACK, strategy: 'auto' })
}

/** The table backed up and deleted by a pre-deploy run on its own runner. */
async function backedUpAndDeleted(): Promise<{
  items: string[] | null
  manifest: string
  runner: Workspace
}> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(20) })
  const items = await tableContent(clients, TABLE)
  const runner = freshRunner()
  const first = await runPhase(inputsOn(runner), phaseDeps(T0))
  expect(first.result.outcome).toBe('resolved')
  expect(await tableContent(clients, TABLE)).toBeNull()
  return { items, manifest: first.result.backupManifests[0] as string, runner }
}

describe(RULE, () => {
  it('every later pre-deploy run on a fresh runner reports the owed restore, from AWS alone, until it is restored', async () => {
    await backedUpAndDeleted()
    for (const hoursLater of [1, 2]) {
      const later = await runPhase(inputsOn(freshRunner()), phaseDeps(T0 + hoursLater * HOUR))
      expect(later.result.outcome).toBe('nothing-to-do')
      expect(later.result.pendingRestores).toEqual([
        {
          table: TABLE,
          source: 'aws-backup',
          backup: expect.stringMatching(
            new RegExp(`^arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}/backup/`)
          ),
          takenAt: expect.any(String)
        }
      ])
    }
  })

  it('a file on the runner cannot make it forget: the marker file of earlier versions next to the export is ignored', async () => {
    const { manifest } = await backedUpAndDeleted()
    // A runner that kept its disk, with the restored.json earlier versions wrote after a restore.
    const kept = freshRunner()
    const copy = join(kept.backupDir, TABLE, dirname(manifest).split('/').pop() as string)
    mkdirSync(copy, { recursive: true })
    writeFileSync(
      join(copy, 'restored.json'),
      JSON.stringify({ table: TABLE, restoredAt: '2025-03-04T06:00:00.000Z' })
    )
    const later = await runPhase(inputsOn(kept), phaseDeps(T0 + HOUR))
    expect(later.result.pendingRestores).toEqual([expect.objectContaining({ table: TABLE })])

    // Restored (and recorded in AWS) after the deploy, it is no longer owed: on any runner.
    await createStackAndWait(clients, STACK, TEMPLATE)
    const restore = await runPhase(inputsOn(freshRunner(), { phase: 'restore' }), phaseDeps(T0 + 2 * HOUR))
    expect(restore.result.outcome).toBe('restored')
    const after = await runPhase(inputsOn(freshRunner()), phaseDeps(T0 + 3 * HOUR))
    expect(after.result.pendingRestores).toEqual([])
  })

  it('a restore whose verification fails is not recorded: the restore is still owed and the next run says so', async () => {
    const { manifest, runner } = await backedUpAndDeleted()
    await createStackAndWait(clients, STACK, TEMPLATE)
    // The restore step of the same run (its export is the source); the verification's Scan loses
    // one item, so the table does not equal the backup.
    const tamper = await startTamperProxy({ target: rec.endpoint, dropOneScanItem: true })
    const lossy = testClients(tamper.endpoint)
    try {
      const failed = await restoreBackups(oneRegion(lossy), {
        backupDir: runner.backupDir,
        stage: 'pr-7',
        s3Bucket: null,
        tables: [{ name: TABLE, region: 'us-east-1' }],
        localManifests: [manifest],
        dryRun: false,
        logger: quietLogger,
        clock: fakeTime(T0 + HOUR)
      })
      expect(failed.outcome).toBe('failed')
      expect(failed.stateNote).toMatch(/Verification of pr-7-orders failed/)
      expect(failed.steps.some(s => s.action === 'record restore')).toBe(false)
      expect(failed.pendingRestores).toEqual([expect.objectContaining({ table: TABLE })])
    } finally {
      destroyClients(lossy)
      await tamper.stop()
    }
    const next = await runPhase(inputsOn(freshRunner()), phaseDeps(T0 + 2 * HOUR))
    expect(next.result.pendingRestores).toEqual([expect.objectContaining({ table: TABLE })])
  })
})
