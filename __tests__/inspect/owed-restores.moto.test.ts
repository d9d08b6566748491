/**
 * Owed restores found in AWS alone (moto: S3, CreateBackup, ListBackups after DeleteTable,
 * RestoreTableFromBackup, tags): which backup of a table is owed, and every kind of backup that is
 * not (of elsewhere, damaged, restored, superseded, of a table that still exists).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { restoreTableFromBackup } from '../../src/aws/backup.js'
import { describeTableOrNull } from '../../src/aws/dynamodb-read.js'
import { tagTable } from '../../src/aws/dynamodb-write.js'
import { putObject } from '../../src/aws/s3.js'
import {
  RESTORED_MARKER,
  RESTORED_TAG,
  s3ExportFolder,
  temporaryTableName
} from '../../src/data/backup-set.js'
import {
  findRestoreStates,
  pendingRestore,
  restoreNotes,
  setSources,
  type OwedRestoreInput,
  type TableRestoreState
} from '../../src/inspect/owed-restores.js'
import { alteredManifest, dropTable, takeBackupSet } from '../../test-support/backup-sets.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, sampleItems } from '../../test-support/orphans.js'

const STAGE = 'pr-8'
const BUCKET = 'orphan-guard-copies'
const S3 = { bucket: BUCKET, prefix: 'guard' }
const T = Date.parse('2025-03-04T05:06:07.000Z')
const HOUR = 3_600_000

let moto: MotoServer
let clients: AwsClients
let backupDir: string

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  if (clients) destroyClients(clients)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  rmSync(backupDir ?? '/nonexistent', { recursive: true, force: true })
  backupDir = mkdtempSync(join(tmpdir(), 'orphan-guard-owed-'))
})

function lookup(tables: string[], over: Partial<OwedRestoreInput> = {}): Promise<TableRestoreState[]> {
  return findRestoreStates(oneRegion(clients), {
    stage: STAGE,
    account: '123456789012',
    s3Bucket: S3,
    tables: tables.map(name => ({ name, region: 'us-east-1' })),
    localManifests: [],
    ...over
  })
}

async function one(table: string, over: Partial<OwedRestoreInput> = {}): Promise<TableRestoreState> {
  const [state] = await lookup([table], over)
  return state as TableRestoreState
}

describe('a table deleted after its backup owes a restore, found in AWS alone', () => {
  it('from the newest backup: the S3 copy first, then the on-demand backup of the same set', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders', items: sampleItems(5) })
    await takeBackupSet(clients, {
      table: 'orders',
      stage: STAGE,
      at: T - HOUR,
      backupDir,
      s3: S3,
      onDemand: true
    })
    const newest = await takeBackupSet(clients, {
      table: 'orders',
      stage: STAGE,
      at: T,
      backupDir,
      s3: S3,
      onDemand: true
    })
    await dropTable(clients, 'orders')

    const state = await one('orders')
    expect(state.state.kind).toBe('owed')
    expect(pendingRestore(state)).toEqual({
      table: 'orders',
      source: 's3',
      backup: newest.s3Uri,
      takenAt: newest.manifest.startedAt
    })
    if (state.state.kind !== 'owed') throw new Error('unreachable')
    expect(setSources(state.state.set)).toEqual([
      { source: 's3', backup: newest.s3Uri },
      { source: 'aws-backup', backup: newest.backupArn }
    ])
    expect(state.notes).toEqual([])

    // Without s3-bucket: the on-demand backup of the same moment.
    const withoutS3 = await one('orders', { s3Bucket: null })
    expect(pendingRestore(withoutS3)).toMatchObject({ source: 'aws-backup', backup: newest.backupArn })

    // This run's own export comes first.
    const local = await one('orders', { localManifests: [newest.manifestPath] })
    expect(pendingRestore(local)).toMatchObject({ source: 'backup-dir', backup: newest.manifestPath })
  })

  it('nothing is owed for a table without backups, or whose backup was taken of the table that still exists', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'fresh', items: sampleItems(2) })
    expect((await one('fresh')).state).toEqual({ kind: 'none' })
    await takeBackupSet(clients, {
      table: 'fresh',
      stage: STAGE,
      at: Date.now(),
      backupDir,
      s3: S3,
      onDemand: true
    })
    const state = await one('fresh')
    expect(state.state).toMatchObject({
      kind: 'not-owed',
      why: expect.stringMatching(/the table it was taken of still exists/)
    })
    expect(pendingRestore(state)).toBeNull()
  })
})

describe('only backups of this stage, region and account are considered; the right one is', () => {
  it('skips copies of another region, account or stage and a damaged older one, names them, and owes the right one', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'users', items: sampleItems(4) })
    const damaged = await takeBackupSet(clients, {
      table: 'users',
      stage: STAGE,
      at: T - HOUR,
      backupDir,
      s3: S3,
      s3Manifest: () => '{"format": "dynamodb-orphan-guard/backup@1", "dataFiles": ['
    })
    const right = await takeBackupSet(clients, { table: 'users', stage: STAGE, at: T, backupDir, s3: S3 })
    const otherStage = await takeBackupSet(clients, {
      table: 'users',
      stage: STAGE,
      at: T + HOUR,
      backupDir,
      s3: S3,
      s3Manifest: alteredManifest(m => (m.stage = 'pr-9'))
    })
    const otherAccount = await takeBackupSet(clients, {
      table: 'users',
      stage: STAGE,
      at: T + 2 * HOUR,
      backupDir,
      s3: S3,
      s3Manifest: alteredManifest(m => (m.table.accountId = '210987654321'))
    })
    const otherRegion = await takeBackupSet(clients, {
      table: 'users',
      stage: STAGE,
      at: T + 3 * HOUR,
      backupDir,
      s3: S3,
      s3Manifest: alteredManifest(m => (m.table.region = 'us-west-2'))
    })
    // An on-demand backup this action took of the table for another stage.
    const otherStageBackup = await takeBackupSet(clients, {
      table: 'users',
      stage: 'pr-9',
      at: T + 4 * HOUR,
      backupDir,
      onDemand: true
    })
    await dropTable(clients, 'users')

    const state = await one('users')
    expect(pendingRestore(state)).toEqual({
      table: 'users',
      source: 's3',
      backup: right.s3Uri,
      takenAt: right.manifest.startedAt
    })
    expect(state.notes).toEqual([
      `on-demand backup ${otherStageBackup.backupArn} belongs to stage pr-9: not loaded`,
      `${otherRegion.s3Uri} is a backup in region us-west-2: not loaded`,
      `${otherAccount.s3Uri} is a backup in account 210987654321: not loaded`,
      `${otherStage.s3Uri} is a backup of stage pr-9: not loaded`
    ])
    expect(damaged.s3Uri).toContain('20250304T040607Z')
  })

  it('a damaged newest copy with no other copy: nothing is loaded, and no older backup in its place', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'carts', items: sampleItems(3) })
    await takeBackupSet(clients, { table: 'carts', stage: STAGE, at: T - HOUR, backupDir, s3: S3 })
    const damaged = await takeBackupSet(clients, {
      table: 'carts',
      stage: STAGE,
      at: T,
      backupDir,
      s3: S3,
      s3Manifest: () => 'not json'
    })
    await dropTable(clients, 'carts')

    const state = await one('carts')
    expect(state.state).toEqual({
      kind: 'problem',
      why: 'its newest backup (20250304T050607Z) cannot be read and has no other copy; older backups are not loaded in its place (they are older than what the table last held)'
    })
    expect(state.notes).toEqual([
      expect.stringMatching(
        new RegExp(`^${damaged.s3Uri}: the backup manifest is not valid JSON .*: skipped$`)
      )
    ])
    expect(restoreNotes([state])).toContain(`carts: ${state.state.kind === 'problem' ? state.state.why : ''}`)
  })

  it('a damaged S3 copy whose on-demand backup of the same moment is fine: the on-demand backup is owed', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'carts', items: sampleItems(3) })
    const set = await takeBackupSet(clients, {
      table: 'carts',
      stage: STAGE,
      at: T,
      backupDir,
      s3: S3,
      s3Manifest: () => 'not json',
      onDemand: true
    })
    await dropTable(clients, 'carts')
    expect(pendingRestore(await one('carts'))).toMatchObject({ source: 'aws-backup', backup: set.backupArn })
  })
})

describe('a restore is remembered in AWS', () => {
  it('by the marker object next to the S3 copy, and by the tag on the restored table', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders', items: sampleItems(5) })
    const set = await takeBackupSet(clients, {
      table: 'orders',
      stage: STAGE,
      at: T,
      backupDir,
      s3: S3,
      onDemand: true
    })
    await dropTable(clients, 'orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })
    expect((await one('orders')).state.kind).toBe('owed')

    const marker = `${s3ExportFolder(S3, STAGE, 'orders', set.timestamp)}${RESTORED_MARKER}`
    await putObject(clients.s3, { bucket: BUCKET, key: marker, body: Buffer.from('{}') })
    expect((await one('orders')).state).toMatchObject({
      kind: 'restored',
      record: `s3://${BUCKET}/${marker}`
    })

    // Without the bucket (an on-demand-backup-only run): the tag on the table.
    expect((await one('orders', { s3Bucket: null })).state.kind).toBe('owed')
    const arn = (await describeTableOrNull(clients.dynamodb, 'orders'))?.TableArn as string
    await tagTable(clients.dynamodb, arn, { [RESTORED_TAG]: `${STAGE}/${set.timestamp}` })
    expect((await one('orders', { s3Bucket: null })).state).toMatchObject({
      kind: 'restored',
      record: `tag ${RESTORED_TAG}=${STAGE}/${set.timestamp} on orders`
    })
    // A tag naming another backup does not count.
    await tagTable(clients.dynamodb, arn, { [RESTORED_TAG]: `${STAGE}/20240101T000000Z` })
    expect((await one('orders', { s3Bucket: null })).state.kind).toBe('owed')
  })

  it('a newer safety-net backup of strategy delete of the same table: the older backup is not owed', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'sessions', items: sampleItems(2) })
    await takeBackupSet(clients, { table: 'sessions', stage: STAGE, at: T, backupDir, onDemand: true })
    // The table was emptied since, and strategy delete backed it up again and deleted it.
    await takeBackupSet(clients, {
      table: 'sessions',
      stage: STAGE,
      at: T + HOUR,
      backupDir,
      onDemand: true,
      purpose: 'delete'
    })
    await dropTable(clients, 'sessions')
    expect((await one('sessions', { s3Bucket: null })).state).toMatchObject({
      kind: 'not-owed',
      why: expect.stringMatching(/still there when strategy delete backed it up again/)
    })
  })

  it('a newer safety-net backup of a later instance: owed while that instance lives, superseded once strategy delete has deleted it', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'carts', items: sampleItems(2) })
    const set = await takeBackupSet(clients, {
      table: 'carts',
      stage: STAGE,
      at: T,
      backupDir,
      onDemand: true
    })
    await dropTable(clients, 'carts')
    // A later instance, then its safety-net backup (a delete that the last check refused, say).
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'carts' })
    await takeBackupSet(clients, {
      table: 'carts',
      stage: STAGE,
      at: T + HOUR,
      backupDir,
      onDemand: true,
      purpose: 'delete'
    })
    expect(pendingRestore(await one('carts', { s3Bucket: null }))).toMatchObject({ backup: set.backupArn })
    // Deleted after it (only strategy delete takes such a backup): superseded, nothing is owed.
    await dropTable(clients, 'carts')
    expect((await one('carts', { s3Bucket: null })).state).toMatchObject({
      kind: 'not-owed',
      why: expect.stringMatching(
        /^superseded: a later instance of the table \(created .*\) was deleted by strategy delete/
      )
    })
  })

  it('a temporary table left by an interrupted restore from an on-demand backup is reported', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'events', items: sampleItems(2) })
    const set = await takeBackupSet(clients, {
      table: 'events',
      stage: STAGE,
      at: T,
      backupDir,
      onDemand: true
    })
    await dropTable(clients, 'events')
    const temp = temporaryTableName('events', set.timestamp)
    await restoreTableFromBackup(clients.dynamodb, { backupArn: set.backupArn as string, targetTable: temp })

    const state = await one('events', { s3Bucket: null })
    expect(state.leftoverTemporaryTable).toBe(temp)
    expect(restoreNotes([state])).toEqual([
      `events: the temporary table ${temp} of an unfinished restore from an on-demand backup still exists; phase restore deletes it once the restore is verified (or delete it yourself)`
    ])
  })
})
