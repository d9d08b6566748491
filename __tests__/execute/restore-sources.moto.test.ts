/**
 * phase restore from each source on moto: the S3 copy on a runner that has nothing (a fresh job
 * dir), the on-demand backup through a temporary table into a table with other keys, a temporary
 * table an interrupted run left, and a restore whose record was lost. Every restore is verified and
 * recorded in AWS; the next lookup finds nothing owed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateTableCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { createOnDemandBackup, restoreTableFromBackup } from '../../src/aws/backup.js'
import { describeTableOrNull, listAllTags } from '../../src/aws/dynamodb-read.js'
import { headObject } from '../../src/aws/s3.js'
import {
  RESTORED_MARKER,
  RESTORED_TAG,
  s3ExportFolder,
  temporaryTableName
} from '../../src/data/backup-set.js'
import { restoreBackups, type RestoreBackupsInput } from '../../src/execute/restore-backups.js'
import { findRestoreStates } from '../../src/inspect/owed-restores.js'
import { systemClock } from '../../src/types.js'
import { dropTable, takeBackupSet } from '../../test-support/backup-sets.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { quietLogger, tableContent } from '../../test-support/execution.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, putItems } from '../../test-support/orphans.js'
import { startTamperProxy } from '../../test-support/scan-tamper-proxy.js'

const STAGE = 'pr-8'
const BUCKET = 'orphan-guard-copies'
const S3 = { bucket: BUCKET, prefix: '' }
const T = Date.parse('2025-03-04T05:06:07.000Z')

let moto: MotoServer
let clients: AwsClients
let jobDir: string

/** Items with a unique `id` besides their keys: they fit a table keyed on `id` alone as well. */
const items: Record<string, AttributeValue>[] = Array.from({ length: 40 }, (_, i) => ({
  pk: { S: `customer#${i % 6}` },
  sk: { S: `order#${String(i).padStart(3, '0')}` },
  id: { S: `order-${i}` },
  total: { N: `${i}.5` },
  lines: { L: [{ M: { sku: { S: `sku-${i}` } } }] }
}))

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
  jobDir = mkdtempSync(join(tmpdir(), 'orphan-guard-job-'))
})

function input(table: string, over: Partial<RestoreBackupsInput> = {}): RestoreBackupsInput {
  return {
    backupDir: join(jobDir, 'backups'),
    stage: STAGE,
    s3Bucket: S3,
    tables: [{ name: table, region: 'us-east-1' }],
    localManifests: [],
    dryRun: false,
    logger: quietLogger,
    clock: { ...systemClock, now: () => T + 60_000 },
    ...over
  }
}

/** A table with data, backed up by the action (on-demand + S3 copy) and deleted; the backup's export dir is wiped. */
async function backedUpAndDeleted(
  table: string
): Promise<{ before: string[] | null; timestamp: string; arn: string }> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: table, items })
  const before = await tableContent(clients, table)
  const otherRunner = mkdtempSync(join(tmpdir(), 'orphan-guard-other-runner-'))
  const set = await takeBackupSet(clients, {
    table,
    stage: STAGE,
    at: T,
    backupDir: otherRunner,
    s3: S3,
    onDemand: true
  })
  rmSync(otherRunner, { recursive: true, force: true })
  await dropTable(clients, table)
  return { before, timestamp: set.timestamp, arn: set.backupArn as string }
}

async function owedAfter(table: string, s3Bucket = S3): Promise<string> {
  const [state] = await findRestoreStates(oneRegion(clients), {
    stage: STAGE,
    account: '123456789012',
    s3Bucket,
    tables: [{ name: table, region: 'us-east-1' }],
    localManifests: []
  })
  return state?.state.kind ?? 'none'
}

describe('phase restore loads exactly the owed backup, from where it is', () => {
  it('from the S3 copy on a runner that has nothing: downloaded, restored, verified, recorded; then nothing is owed', async () => {
    const { before, timestamp } = await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' }) // the deploy

    const result = await restoreBackups(oneRegion(clients), input('orders'))

    expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
    expect(result.restoredItems).toBe(items.length)
    expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual([
      'download:done',
      'restore:done',
      'verify:done',
      'record restore:done'
    ])
    expect(await tableContent(clients, 'orders')).toEqual(before)
    const marker = `${s3ExportFolder(S3, STAGE, 'orders', timestamp)}${RESTORED_MARKER}`
    expect(await headObject(clients.s3, BUCKET, marker)).not.toBeNull()
    const arn = (await describeTableOrNull(clients.dynamodb, 'orders'))?.TableArn as string
    expect((await listAllTags(clients.dynamodb, arn))[RESTORED_TAG]).toBe(`${STAGE}/${timestamp}`)
    expect(await owedAfter('orders')).toBe('restored')

    const again = await restoreBackups(oneRegion(clients), input('orders'))
    expect(again).toMatchObject({ outcome: 'nothing-to-do', restoredItems: 0, pendingRestores: [] })
  })

  it('from the on-demand backup without s3-bucket: a temporary table, the checked copy into a table with other keys, the temporary table deleted', async () => {
    const { before, timestamp, arn } = await backedUpAndDeleted('orders')
    // The deploy creates the table with another key schema: `id` alone.
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: 'orders',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }]
      })
    )

    const result = await restoreBackups(oneRegion(clients), input('orders', { s3Bucket: null }))

    expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
    const temp = temporaryTableName('orders', timestamp)
    expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual([
      'restore from on-demand backup:done',
      'copy:done',
      'restore:done',
      'verify:done',
      'record restore:done',
      'delete temporary table:done'
    ])
    expect(result.steps[0]?.detail).toBe(`RestoreTableFromBackup ${arn} into the temporary table ${temp}`)
    expect(result.backupArns).toEqual([arn])
    expect(await tableContent(clients, 'orders')).toEqual(before)
    expect(await describeTableOrNull(clients.dynamodb, temp)).toBeNull()
    expect(await owedAfter('orders', null as never)).toBe('restored')
  })

  it('an export of the temporary table that misses an item is refused before anything is written', async () => {
    await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })
    const tamper = await startTamperProxy({ target: moto.endpoint, dropOneScanItem: true })
    const lossy = testClients(tamper.endpoint)
    try {
      const result = await restoreBackups(oneRegion(lossy), input('orders', { s3Bucket: null }))
      expect(tamper.dropped).not.toBeNull()
      expect(result.outcome).toBe('failed')
      expect(result.stateNote).toMatch(
        /The copy of the temporary table orphan-guard-restore_\d{8}T\d{6}Z_orders does not match it: item count: export 39, orphan-guard-restore_\d{8}T\d{6}Z_orders 40/
      )
      expect(await tableContent(clients, 'orders')).toEqual([])
    } finally {
      destroyClients(lossy)
      await tamper.stop()
    }
    // Run again: the temporary table is used again, and the restore completes.
    const again = await restoreBackups(oneRegion(clients), input('orders', { s3Bucket: null }))
    expect(again.outcome).toBe('restored')
    expect(await tableContent(clients, 'orders')).toHaveLength(items.length)
  })

  it('a temporary table an interrupted run left is used, then deleted', async () => {
    const { before, timestamp, arn } = await backedUpAndDeleted('orders')
    const temp = temporaryTableName('orders', timestamp)
    await restoreTableFromBackup(clients.dynamodb, { backupArn: arn, targetTable: temp })
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })

    const result = await restoreBackups(oneRegion(clients), input('orders', { s3Bucket: null }))

    expect(result.outcome).toBe('restored')
    expect(result.restoreNotes).toEqual([
      expect.stringContaining(`the temporary table ${temp} of an unfinished restore`)
    ])
    expect(result.steps[0]?.detail).toBe(`the temporary table ${temp} left by an earlier attempt`)
    expect(await tableContent(clients, 'orders')).toEqual(before)
    expect(await describeTableOrNull(clients.dynamodb, temp)).toBeNull()
  })

  it('a table that only carries the temporary name (restored from a backup that is not ours) is never deleted', async () => {
    const { timestamp } = await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })
    expect((await restoreBackups(oneRegion(clients), input('orders'))).outcome).toBe('restored')
    // Someone restores a backup of their own table under the name the action would use.
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'theirs', items })
    const theirs = await createOnDemandBackup(
      clients.dynamodb,
      { table: 'theirs', backupName: 'their-own' },
      { ...systemClock, maxWaitMs: 30_000, pollMs: 100 }
    )
    const temp = temporaryTableName('orders', timestamp)
    await restoreTableFromBackup(clients.dynamodb, { backupArn: theirs.arn, targetTable: temp })

    const again = await restoreBackups(oneRegion(clients), input('orders'))

    expect(again.steps).toContainEqual(
      expect.objectContaining({
        action: 'delete temporary table',
        status: 'skipped',
        detail: expect.stringMatching(/was not restored by this action from a backup of orders/)
      })
    )
    expect(await describeTableOrNull(clients.dynamodb, temp)).not.toBeNull()
  })

  it.each([
    ['from S3 (s3-bucket set)', S3],
    ['from the on-demand backup (no s3-bucket)', null]
  ])(
    'a restore cut short, run again on a fresh runner (no checkpoint): resumed into the same table, restored and verified (%s)',
    async (_from, s3Bucket) => {
      const { before } = await backedUpAndDeleted('orders')
      await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })
      // The first runner: its job is cancelled once the first batch of items is on its way.
      const stop = new AbortController()
      const first = testClients(moto.endpoint)
      first.dynamodb.middlewareStack.add(
        next => async args => {
          if ((args.input as { RequestItems?: unknown }).RequestItems !== undefined) stop.abort()
          return next(args)
        },
        { step: 'initialize', name: 'cancelTheJob' }
      )
      let cut
      try {
        cut = await restoreBackups(oneRegion(first), input('orders', { s3Bucket, signal: stop.signal }))
      } finally {
        destroyClients(first)
      }
      expect(cut.outcome).toBe('failed')
      const partial = (await tableContent(clients, 'orders')) ?? []
      expect(partial.length).toBeGreaterThan(0)
      expect(partial.length).toBeLessThan(items.length)

      // A fresh runner: nothing of the first one's backup-dir (its checkpoint included).
      rmSync(jobDir, { recursive: true, force: true })
      jobDir = mkdtempSync(join(tmpdir(), 'orphan-guard-job-'))
      const result = await restoreBackups(oneRegion(clients), input('orders', { s3Bucket }))

      expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
      expect(result.steps).toContainEqual(
        expect.objectContaining({
          action: 'restore',
          status: 'done',
          detail: expect.stringMatching(
            new RegExp(`^resumed without a checkpoint: ${items.length} items written again`)
          )
        })
      )
      expect(result.steps).toContainEqual(expect.objectContaining({ action: 'verify', status: 'done' }))
      expect(await tableContent(clients, 'orders')).toEqual(before)
      expect(await owedAfter('orders', s3Bucket ?? (null as never))).toBe('restored')
    }
  )

  it('a restore verified but never recorded (the job died first), run again on a fresh runner: the marked table already equals the backup, so it is recorded, not written again', async () => {
    const { before } = await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })
    // The first runner restores and verifies; the job dies as it records the restore.
    const first = testClients(moto.endpoint)
    first.dynamodb.middlewareStack.add(
      next => async args => {
        const tags = (args.input as { Tags?: { Key?: string }[] }).Tags ?? []
        if (tags.some(t => t.Key === RESTORED_TAG)) throw new Error('the job was cancelled here')
        return next(args)
      },
      { step: 'initialize', name: 'dieAsItRecords' }
    )
    let unrecorded
    try {
      unrecorded = await restoreBackups(oneRegion(first), input('orders', { s3Bucket: null }))
    } finally {
      destroyClients(first)
    }
    expect(unrecorded.outcome).toBe('failed')
    expect(unrecorded.steps).toContainEqual(expect.objectContaining({ action: 'verify', status: 'done' }))
    expect(await owedAfter('orders', null as never)).toBe('owed')

    // A fresh runner: no checkpoint; the table carries the mark of this restore and holds data.
    rmSync(jobDir, { recursive: true, force: true })
    jobDir = mkdtempSync(join(tmpdir(), 'orphan-guard-job-'))
    const again = await restoreBackups(oneRegion(clients), input('orders', { s3Bucket: null }))
    expect(again).toMatchObject({ outcome: 'restored', restoredItems: 0 })
    expect(again.steps).toContainEqual(
      expect.objectContaining({
        action: 'restore',
        status: 'done',
        detail: expect.stringMatching(
          /^resumed without a checkpoint: the table already held exactly the backup .*nothing written/
        )
      })
    )
    expect(await tableContent(clients, 'orders')).toEqual(before)
    expect(await owedAfter('orders', null as never)).toBe('restored')
  })

  it('a table with items that does not carry the mark of this restore is still refused (nothing written)', async () => {
    await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders', items: items.slice(0, 5) })
    const result = await restoreBackups(oneRegion(clients), input('orders'))
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(/already holds items/)
    expect(await tableContent(clients, 'orders')).toHaveLength(5)
  })

  it('a table that already holds exactly the backup (a restore whose record was lost) is recorded, not written; one with other items is refused', async () => {
    const { timestamp } = await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders', items })

    const result = await restoreBackups(oneRegion(clients), input('orders'))
    expect(result).toMatchObject({ outcome: 'restored', restoredItems: 0 })
    expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual(['download:done', 'record restore:done'])
    expect(await owedAfter('orders')).toBe('restored')

    // Another table that owes a restore, into which something else wrote first.
    const other = await backedUpAndDeleted('users')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'users' })
    await putItems(clients.dynamodb, 'users', [{ pk: { S: 'someone' }, sk: { S: 'else' } }])
    const refused = await restoreBackups(oneRegion(clients), input('users'))
    expect(refused.outcome).toBe('failed')
    expect(refused.stateNote).toMatch(
      /Restore target table users already holds items: .*it holds 1 items that are not the backup's/
    )
    expect(refused.pendingRestores).toEqual([expect.objectContaining({ table: 'users', source: 's3' })])
    expect(await tableContent(clients, 'users')).toHaveLength(1)
    expect(timestamp).toBe(other.timestamp)
  })

  it('dry run: names the calls, changes nothing, and says the restore is still owed', async () => {
    const { timestamp, arn } = await backedUpAndDeleted('orders')
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders' })

    const result = await restoreBackups(oneRegion(clients), input('orders', { s3Bucket: null, dryRun: true }))

    expect(result.outcome).toBe('dry-run')
    expect(result.steps.map(s => [s.action, s.status, s.detail])).toEqual([
      [
        'restore from on-demand backup',
        'planned',
        `RestoreTableFromBackup {"BackupArn":"${arn}","TargetTableName":"${temporaryTableName('orders', timestamp)}"}`
      ],
      ['copy', 'planned', expect.stringContaining('then BatchWriteItem into orders')],
      ['verify', 'planned', expect.any(String)],
      ['record restore', 'planned', `TagResource ${RESTORED_TAG}=${STAGE}/${timestamp} on orders`]
    ])
    expect(result.pendingRestores).toEqual([
      expect.objectContaining({ table: 'orders', source: 'aws-backup', backup: arn })
    ])
    expect(await tableContent(clients, 'orders')).toEqual([])
  })
})
