/**
 * restore phase: findNewestBackups over real exports (dynalite), and restoreBackups's dry-run,
 * nothing-to-do and restore paths.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AwsClients } from '../../src/aws/clients.js'
import { systemClock } from '../../src/types.js'
import { exportDir } from '../../src/execute/backup-delete.js'
import { findNewestBackups, restoreBackups } from '../../src/execute/restore-backups.js'
import { exportTable } from '../../src/data/export.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { makeUnmanagedTable, sampleItems } from '../../test-support/orphans.js'
import { quietLogger, tableContent } from '../../test-support/execution.js'
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb'

let dynalite: RunningDynalite
let clients: AwsClients
let backupDir: string

const HOUR = 3_600_000
const T = Date.parse('2025-03-04T05:06:07.000Z')

beforeAll(async () => {
  dynalite = await startDynalite()
  clients = testClients(dynalite.endpoint)
  await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders', items: sampleItems(7) })
  await makeUnmanagedTable(clients.dynamodb, { tableName: 'users', items: sampleItems(3) })
})
afterAll(async () => {
  if (clients) destroyClients(clients)
  await dynalite?.stop()
})
beforeEach(() => {
  backupDir = mkdtempSync(join(tmpdir(), 'orphan-guard-restore-'))
})
afterEach(() => rmSync(backupDir, { recursive: true, force: true }))

/** A real export of `table` at time `at`, in the layout backupAndDelete writes; returns its manifest path. */
async function exportAt(table: string, at: number): Promise<string> {
  const dir = exportDir(backupDir, table, at)
  await exportTable(clients.dynamodb, {
    table,
    dir,
    region: 'us-east-1',
    logger: quietLogger,
    clock: { now: () => at, sleep: async () => undefined }
  })
  return join(dir, 'manifest.json')
}

describe('findNewestBackups', () => {
  it('finds the newest backup of each table, sorted by table name', async () => {
    await exportAt('orders', T)
    const newestOrders = await exportAt('orders', T + 2 * HOUR)
    await exportAt('orders', T + HOUR)
    const users = await exportAt('users', T)

    const found = await findNewestBackups(backupDir, null)

    expect(found.map(f => [f.table, f.manifestPath])).toEqual([
      ['orders', newestOrders],
      ['users', users]
    ])
    expect(found[0]?.manifest.itemCount).toBe(7)
    expect(found[0]?.manifest.finishedAt).toBe(new Date(T + 2 * HOUR).toISOString())
  })

  it('keeps only the tables asked for', async () => {
    await exportAt('orders', T)
    const users = await exportAt('users', T)

    expect((await findNewestBackups(backupDir, ['users'])).map(f => f.manifestPath)).toEqual([users])
    expect(await findNewestBackups(backupDir, ['payments'])).toEqual([])
    expect(await findNewestBackups(backupDir, [])).toEqual([])
  })

  it('takes a manifest given directly (the file or its folder), even when a newer one exists', async () => {
    const older = await exportAt('orders', T)
    await exportAt('orders', T + HOUR)

    expect((await findNewestBackups(older, null)).map(f => f.manifestPath)).toEqual([older])
    expect((await findNewestBackups(join(older, '..'), null)).map(f => f.manifestPath)).toEqual([
      join(older, '..', 'manifest.json')
    ])
  })

  it('finds nothing in a missing or empty folder, and ignores an unfinished export (no manifest)', async () => {
    expect(await findNewestBackups(join(backupDir, 'missing'), null)).toEqual([])
    expect(await findNewestBackups(backupDir, null)).toEqual([])
    const manifest = await exportAt('orders', T)
    rmSync(manifest)
    expect(await findNewestBackups(backupDir, null)).toEqual([])
  })
})

describe('restoreBackups', () => {
  it('without backups: nothing to do', async () => {
    const result = await restoreBackups(oneRegion(clients), {
      backupDir,
      tables: null,
      dryRun: false,
      logger: quietLogger,
      clock: { ...systemClock, now: () => T }
    })
    expect(result).toMatchObject({
      outcome: 'nothing-to-do',
      steps: [],
      restoredItems: 0,
      backupManifests: []
    })
  })

  it('dry-run plans the restore of the newest backup and writes nothing', async () => {
    await exportAt('orders', T)
    const newest = await exportAt('orders', T + HOUR)
    const before = await tableContent(clients, 'orders')

    const result = await restoreBackups(oneRegion(clients), {
      backupDir,
      tables: ['orders'],
      dryRun: true,
      logger: quietLogger,
      clock: { ...systemClock, now: () => T }
    })

    expect(result.outcome).toBe('dry-run')
    expect(result.backupManifests).toEqual([newest])
    expect(result.steps).toEqual([
      expect.objectContaining({
        table: 'orders',
        action: 'restore',
        status: 'planned',
        detail: expect.stringContaining(newest)
      })
    ])
    expect(await tableContent(clients, 'orders')).toEqual(before)
  })

  it('restores the newest backup into the empty table and verifies it', async () => {
    const manifest = await exportAt('users', T)
    const before = await tableContent(clients, 'users')
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: 'users' }))
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'users' })

    const result = await restoreBackups(oneRegion(clients), {
      backupDir,
      tables: ['users'],
      dryRun: false,
      logger: quietLogger,
      clock: { ...systemClock, now: () => T }
    })

    expect(result).toMatchObject({ outcome: 'restored', restoredItems: 3, backupManifests: [manifest] })
    expect(await tableContent(clients, 'users')).toEqual(before)
  })
})
