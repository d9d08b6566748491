/**
 * Safety rule: the restore phase loads exactly the right backup, or nothing. Never a backup of
 * another stage, region or account; never an older backup in place of a newer one it cannot read;
 * never a backup whose restore is already recorded; never a stale backup of a table that was
 * deleted as empty; never into a table that holds items. A recording proxy shows that no item
 * write reaches the table in each of these cases.
 *
 * Seen to fail without its guard: foreignManifest (owed-restores.ts) accepting every manifest and
 * the stage check of on-demand backup names removed fail the first test; the damaged newest copy
 * no longer stopping the search fails the second; restoredRecord answering null fails the third;
 * the check of a newer safety-net backup of the same table removed fails the fourth; deleteRecorded
 * (owed-restores.ts) answering `recorded` fails the sixth (the stale set is written back: 6 items),
 * and takeBackIntent (table-ops.ts) returning at once fails the seventh (the marker stays, or the
 * on-demand backup stays, and the stale data comes back).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { putObject } from '../../src/aws/s3.js'
import { RESTORED_MARKER, s3ExportFolder } from '../../src/data/backup-set.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { restoreBackups, type RestoreBackupsInput } from '../../src/execute/restore-backups.js'
import type { RunResult } from '../../src/types.js'
import { alteredManifest, dropTable, takeBackupSet } from '../../test-support/backup-sets.js'
import { oneRegion } from '../../test-support/aws-clients.js'
import {
  decisionOf,
  deps,
  fakeTime,
  makeInputs,
  quietLogger,
  runCheck,
  startRecordedMoto,
  stopRecordedMoto,
  tableContent,
  T0,
  workspace,
  type Workspace
} from '../../test-support/execution.js'
import type { MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, putItems, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import type { RecordedCall, InjectedError, RecordingProxy } from '../../test-support/recording-proxy.js'
import type { Logger } from '../../src/types.js'
import { DELETING_MARKER } from '../../src/data/backup-set.js'
import { listTableBackups } from '../../src/aws/backup.js'
import { headObject, listObjects } from '../../src/aws/s3.js'

const RULE = 'the restore phase loads exactly the right backup, or nothing'
const TABLE = 'pr-7-orders'
const STAGE = 'pr-7'
const BUCKET = 'orphan-guard-copies'
const S3 = { bucket: BUCKET, prefix: '' }
const HOUR = 3_600_000

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let ws: Workspace

/** Answers a request with an error instead of forwarding it (set by a test, cleared after each). */
let inject: ((call: RecordedCall) => InjectedError | void) | null = null

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto({ onRequest: call => inject?.(call) }))
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  ws = workspace(tableTemplate({ tableName: TABLE }))
})
afterEach(() => {
  inject = null
  ws.remove()
})

function restore(over: Partial<RestoreBackupsInput> = {}): Promise<RunResult> {
  return restoreBackups(oneRegion(clients), {
    backupDir: ws.backupDir,
    stage: STAGE,
    s3Bucket: S3,
    tables: [{ name: TABLE, region: 'us-east-1' }],
    localManifests: [],
    dryRun: false,
    logger: quietLogger,
    clock: fakeTime(T0 + 10 * HOUR),
    ...over
  })
}

/** The set folders under the table's prefix in the bucket. */
async function s3Folders(): Promise<string[]> {
  const folders: string[] = []
  for await (const page of listObjects(clients.s3, {
    bucket: BUCKET,
    prefix: `${STAGE}/${TABLE}/`,
    delimiter: '/'
  }))
    folders.push(...page.prefixes)
  return folders
}

async function emptyTable(table: string): Promise<void> {
  const out = await clients.dynamodb.send(new ScanCommand({ TableName: table }))
  for (const item of out.Items ?? [])
    await clients.dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: item.pk!, sk: item.sk! } })
    )
}

/** Runs `restoreBackups` and checks that no item write was sent. */
async function restoresNothing(over: Partial<RestoreBackupsInput> = {}): Promise<RunResult> {
  const before = rec.operations().length
  const result = await restore(over)
  const writes = rec
    .operations()
    .slice(before)
    .filter(op => /BatchWriteItem|PutItem|UpdateItem|RestoreTableFromBackup/.test(op))
  expect(writes).toEqual([])
  expect(result.restoredItems).toBe(0)
  return result
}

describe(RULE, () => {
  it('never a backup of another stage, region or account: each is named, none is loaded', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
    const other = { table: TABLE, backupDir: ws.dir, s3: S3 }
    await takeBackupSet(clients, {
      ...other,
      stage: STAGE,
      at: T0,
      s3Manifest: alteredManifest(m => (m.table.region = 'eu-west-1'))
    })
    await takeBackupSet(clients, {
      ...other,
      stage: STAGE,
      at: T0 + HOUR,
      s3Manifest: alteredManifest(m => (m.stage = 'pr-8'))
    })
    await takeBackupSet(clients, {
      ...other,
      stage: STAGE,
      at: T0 + 2 * HOUR,
      s3Manifest: alteredManifest(m => (m.table.accountId = '999999999999'))
    })
    await takeBackupSet(clients, {
      table: TABLE,
      backupDir: ws.dir,
      stage: 'pr-8',
      at: T0 + 3 * HOUR,
      onDemand: true
    })
    await dropTable(clients, TABLE)
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })

    const result = await restoresNothing()
    expect(result.outcome).toBe('nothing-to-do')
    expect(result.restoreNotes).toEqual([
      expect.stringMatching(/on-demand backup .* belongs to stage pr-8: not loaded$/),
      expect.stringMatching(/is a backup in account 999999999999: not loaded$/),
      expect.stringMatching(/is a backup of stage pr-8: not loaded$/),
      expect.stringMatching(/is a backup in region eu-west-1: not loaded$/)
    ])
    expect(await tableContent(clients, TABLE)).toEqual([])
  })

  it('never an older backup in place of a newer one that cannot be read', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
    await takeBackupSet(clients, { table: TABLE, backupDir: ws.dir, s3: S3, stage: STAGE, at: T0 })
    await putItems(clients.dynamodb, TABLE, sampleItems(9))
    await takeBackupSet(clients, {
      table: TABLE,
      backupDir: ws.dir,
      s3: S3,
      stage: STAGE,
      at: T0 + HOUR,
      s3Manifest: () => '{'
    })
    await dropTable(clients, TABLE)
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })

    const result = await restoresNothing()
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(
      /its newest backup \(20250304T060607Z\) cannot be read and has no other copy; older backups are not loaded/
    )
    expect(await tableContent(clients, TABLE)).toEqual([])
  })

  it('never a backup whose restore is recorded, even into an empty table of the same name', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
    const set = await takeBackupSet(clients, {
      table: TABLE,
      backupDir: ws.dir,
      s3: S3,
      stage: STAGE,
      at: T0,
      onDemand: true
    })
    await dropTable(clients, TABLE)
    await putObject(clients.s3, {
      bucket: BUCKET,
      key: `${s3ExportFolder(S3, STAGE, TABLE, set.timestamp)}${RESTORED_MARKER}`,
      body: Buffer.from('{}')
    })
    // The restored table was deleted since (its stack destroyed) and the deploy made it again.
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })

    const result = await restoresNothing()
    expect(result.steps).toEqual([
      expect.objectContaining({
        action: 'restore',
        status: 'skipped',
        detail: expect.stringMatching(/^already restored and verified/)
      })
    ])
    expect(await tableContent(clients, TABLE)).toEqual([])
  })

  it('never a stale backup of a table that a later run deleted as empty, nor its export left in backup-dir', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
    // An earlier run backed the table up and stopped before deleting it (its export stayed on this runner).
    const stale = await takeBackupSet(clients, {
      table: TABLE,
      backupDir: ws.backupDir,
      stage: STAGE,
      at: T0 - HOUR,
      onDemand: true
    })
    // Emptied since; this run deletes it as empty (strategy auto; aws-backup takes its safety net).
    await emptyTable(TABLE)
    const inputs = makeInputs(ws, { stage: STAGE, stackName: 'pr-7-db', strategy: 'auto', awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('delete')
    const { result } = await executePlan(check, inputs, { ...deps(clients), clock: fakeTime(T0) })
    expect(result.outcome).toBe('resolved')
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE }) // the deploy

    const restored = await restoresNothing({ localManifests: [stale.manifestPath], s3Bucket: null })
    expect(restored.outcome).toBe('nothing-to-do')
    expect(restored.steps).toEqual([
      expect.objectContaining({
        action: 'restore',
        status: 'skipped',
        detail: expect.stringMatching(/still there when strategy delete backed it up again/)
      })
    ])
    expect(await tableContent(clients, TABLE)).toEqual([])
  })

  it('never into a table that holds items', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
    await takeBackupSet(clients, { table: TABLE, backupDir: ws.dir, s3: S3, stage: STAGE, at: T0 })
    await dropTable(clients, TABLE)
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: TABLE,
      items: [{ pk: { S: 'new' }, sk: { S: 'item' } }]
    })

    const result = await restoresNothing()
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(/already holds items/)
    expect(await tableContent(clients, TABLE)).toHaveLength(1)
  })

  /**
   * An earlier backup-restore run made a complete set (S3 copy, manifest last) and stopped before
   * its DeleteTable: here the job was cancelled after the fenced scan. The table lives on.
   */
  async function backupRestoreStoppedBeforeDelete(s3: typeof S3 | null, awsBackup: boolean): Promise<void> {
    const stop = new AbortController()
    const logger: Logger = {
      ...quietLogger,
      info: m => {
        if (m.startsWith(`${TABLE}: verify export done`)) stop.abort()
      }
    }
    const inputs = makeInputs(ws, {
      stage: STAGE,
      stackName: 'pr-7-db',
      strategy: 'backup-restore',
      awsBackup,
      s3Bucket: s3
    })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('backup-restore')
    const { result } = await executePlan(check, inputs, {
      ...deps(clients),
      logger,
      signal: stop.signal,
      clock: fakeTime(T0 - HOUR)
    })
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(/Interrupted before deleting/)
    expect(await tableContent(clients, TABLE)).toHaveLength(6)
  }

  it.each([
    ['deletes it as empty (strategy auto, aws-backup false, s3-bucket set)', 'auto'],
    ['is deleted outside the action (by hand, a stack destroy)', 'outside']
  ])(
    'never the complete set of a run that stopped before its delete, when the table later %s',
    async (_what, how) => {
      await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
      await backupRestoreStoppedBeforeDelete(S3, false)
      const [folder] = await s3Folders()
      expect(await headObject(clients.s3, BUCKET, `${folder}manifest.json`)).not.toBeNull()
      if (how === 'auto') {
        await emptyTable(TABLE)
        const inputs = makeInputs(ws, {
          stage: STAGE,
          stackName: 'pr-7-db',
          strategy: 'auto',
          awsBackup: false,
          s3Bucket: S3
        })
        const check = await runCheck(inputs, clients)
        expect(decisionOf(check, TABLE)).toBe('delete')
        const { result } = await executePlan(check, inputs, { ...deps(clients), clock: fakeTime(T0) })
        expect(result.outcome).toBe('resolved')
      } else {
        await dropTable(clients, TABLE)
      }
      await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE }) // the deploy

      const restored = await restoresNothing()
      expect(restored.outcome).toBe('nothing-to-do')
      expect(restored.pendingRestores ?? []).toEqual([])
      expect(restored.steps).toEqual([
        expect.objectContaining({
          action: 'restore',
          status: 'skipped',
          detail: expect.stringMatching(
            /no s3:\/\/.*deleting\.json: the run that took it stopped before deleting the table/
          )
        })
      ])
      expect(await tableContent(clients, TABLE)).toEqual([])
    }
  )

  it.each([
    ['s3-bucket, aws-backup false: the record in S3 is deleted again', S3, false],
    ['aws-backup alone: the on-demand backup taken for the delete is deleted again', null, true],
    [
      's3-bucket and aws-backup: the record in S3 and the on-demand backup are both deleted again (a later run without s3-bucket would take the backup for the record)',
      S3,
      true
    ]
  ])(
    'never the set of a run whose DeleteTable failed, when the table is deleted later outside the action (%s)',
    async (_what, s3, awsBackup) => {
      await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(6) })
      inject = call =>
        call.operation === 'DynamoDB.DeleteTable'
          ? { status: 400, type: 'LimitExceededException', message: 'Too many tables being deleted' }
          : undefined
      const inputs = makeInputs(ws, {
        stage: STAGE,
        stackName: 'pr-7-db',
        strategy: 'backup-restore',
        awsBackup,
        s3Bucket: s3
      })
      const check = await runCheck(inputs, clients)
      const { result } = await executePlan(check, inputs, { ...deps(clients), clock: fakeTime(T0 - HOUR) })
      inject = null
      expect(result.outcome).toBe('failed')
      expect(result.stateNote).toMatch(/Deleting pr-7-orders failed/)
      // What to do says so: the table keeps its data and must not be deleted by hand (a restore
      // would find no record and load nothing), and no copy it names is gone.
      expect(result.stateNote).toMatch(
        /The table pr-7-orders still exists and keeps its data: it was not deleted\..*Do not delete it by hand/
      )
      expect(result.stateNote).not.toMatch(/data is safe in on-demand backup/)
      expect(result.backupArns).toEqual([])
      expect(await tableContent(clients, TABLE)).toHaveLength(6)
      if (s3) {
        const [folder] = await s3Folders()
        expect(await headObject(clients.s3, BUCKET, `${folder}${DELETING_MARKER}`)).toBeNull()
      }
      if (awsBackup) {
        const left = (await listTableBackups(clients.dynamodb, TABLE)).filter(b => b.status === 'AVAILABLE')
        expect(left).toEqual([])
      }

      await dropTable(clients, TABLE) // later, outside the action
      await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE }) // the deploy
      await restoresNothing(s3 ? {} : { s3Bucket: null })
      expect(await tableContent(clients, TABLE)).toEqual([])
    }
  )
})
