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
 * the check of a newer safety-net backup of the same table removed fails the fourth.
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
import type { RecordingProxy } from '../../test-support/recording-proxy.js'

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

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto())
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  ws = workspace(tableTemplate({ tableName: TABLE }))
})
afterEach(() => ws.remove())

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
})
