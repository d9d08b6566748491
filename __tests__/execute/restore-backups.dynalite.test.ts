/**
 * phase restore on dynalite (no on-demand backups, no S3 here: only this run's exports in
 * backup-dir): only a restore that is owed is loaded, exactly that backup, verified and recorded on
 * the table; anything else in the folder is left alone.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { describeTableOrNull, listAllTags } from '../../src/aws/dynamodb-read.js'
import { waitForTable } from '../../src/aws/dynamodb-write.js'
import { RESTORED_TAG } from '../../src/data/backup-set.js'
import { exportTable } from '../../src/data/export.js'
import { exportDir } from '../../src/execute/backup-delete.js'
import { restoreBackups, type RestoreBackupsInput } from '../../src/execute/restore-backups.js'
import { systemClock } from '../../src/types.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { recordDeleteLocally } from '../../test-support/backup-sets.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { quietLogger, tableContent } from '../../test-support/execution.js'
import { makeUnmanagedTable, sampleItems } from '../../test-support/orphans.js'

let dynalite: RunningDynalite
let clients: AwsClients
let backupDir: string

const HOUR = 3_600_000
const T = Date.parse('2025-03-04T05:06:07.000Z')
const STAGE = 'pr-3'

beforeAll(async () => {
  dynalite = await startDynalite()
  clients = testClients(dynalite.endpoint)
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
async function exportAt(table: string, at: number, stage = STAGE): Promise<string> {
  const dir = exportDir(backupDir, table, at)
  await exportTable(clients.dynamodb, {
    table,
    dir,
    region: 'us-east-1',
    stage,
    logger: quietLogger,
    clock: { now: () => at, sleep: async () => undefined }
  })
  // Its table is deleted next (recreate), as the action does right after this record.
  return recordDeleteLocally(join(dir, 'manifest.json'))
}

/** The table deleted and created again empty (what the pre-deploy step and the deploy do). */
async function recreate(table: string): Promise<void> {
  await clients.dynamodb.send(new DeleteTableCommand({ TableName: table }))
  await waitForTable(clients.dynamodb, table, 'GONE', { ...systemClock, maxWaitMs: 10_000, pollMs: 50 })
  await makeUnmanagedTable(clients.dynamodb, { tableName: table })
}

function input(over: Partial<RestoreBackupsInput>): RestoreBackupsInput {
  return {
    backupDir,
    stage: STAGE,
    s3Bucket: null,
    tables: [],
    localManifests: [],
    dryRun: false,
    logger: quietLogger,
    clock: { ...systemClock, now: () => T + 5 * HOUR },
    ...over
  }
}

describe('restoreBackups', () => {
  it('without backups: nothing to do', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'empty', items: [] })
    const result = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'empty', region: 'us-east-1' }] })
    )
    expect(result).toMatchObject({
      outcome: 'nothing-to-do',
      steps: [],
      restoredItems: 0,
      backupManifests: [],
      pendingRestores: [],
      restoreNotes: []
    })
  })

  it('dry-run plans the restore of this run’s export, names the calls and writes nothing', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'orders', items: sampleItems(7) })
    const manifest = await exportAt('orders', T)
    await recreate('orders')

    const result = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'orders', region: 'us-east-1' }], localManifests: [manifest], dryRun: true })
    )

    expect(result.outcome).toBe('dry-run')
    expect(result.steps.map(s => [s.action, s.status])).toEqual([
      ['restore', 'planned'],
      ['verify', 'planned'],
      ['record restore', 'planned']
    ])
    expect(result.steps[0]?.detail).toContain(manifest)
    expect(result.steps[2]?.detail).toContain(
      `TagResource ${RESTORED_TAG}=${STAGE}/20250304T050607Z on orders`
    )
    expect(result.pendingRestores).toEqual([
      { table: 'orders', source: 'backup-dir', backup: manifest, takenAt: '2025-03-04T05:06:07.000Z' }
    ])
    expect(await tableContent(clients, 'orders')).toEqual([])
  })

  it('restores this run’s export into the new table, verifies it and records it on the table; the next run has nothing to do', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'users', items: sampleItems(3) })
    const before = await tableContent(clients, 'users')
    const manifest = await exportAt('users', T)
    await recreate('users')

    const result = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'users', region: 'us-east-1' }], localManifests: [manifest] })
    )

    expect(result).toMatchObject({
      outcome: 'restored',
      restoredItems: 3,
      backupManifests: [manifest],
      pendingRestores: []
    })
    expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual([
      'restore:done',
      'verify:done',
      'record restore:done'
    ])
    expect(await tableContent(clients, 'users')).toEqual(before)
    const arn = (await describeTableOrNull(clients.dynamodb, 'users'))?.TableArn as string
    expect((await listAllTags(clients.dynamodb, arn))[RESTORED_TAG]).toBe(`${STAGE}/20250304T050607Z`)

    const again = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'users', region: 'us-east-1' }], localManifests: [manifest] })
    )
    expect(again).toMatchObject({ outcome: 'nothing-to-do', restoredItems: 0, pendingRestores: [] })
    expect(again.steps).toEqual([
      expect.objectContaining({
        table: 'users',
        action: 'restore',
        status: 'skipped',
        detail: expect.stringMatching(/^already restored and verified \(tag /)
      })
    ])
  })

  it('loads nothing this run did not export: an older export in backup-dir, or one of another stage, is left alone', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'stale', items: sampleItems(4) })
    const older = await exportAt('stale', T - HOUR)
    const otherStage = await exportAt('stale', T, 'pr-4')
    await recreate('stale')

    const notListed = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'stale', region: 'us-east-1' }] })
    )
    expect(notListed).toMatchObject({ outcome: 'nothing-to-do', restoredItems: 0 })
    const foreign = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'stale', region: 'us-east-1' }], localManifests: [otherStage] })
    )
    expect(foreign).toMatchObject({ outcome: 'nothing-to-do', restoredItems: 0 })
    expect(foreign.restoreNotes).toEqual([`stale: ${otherStage} is a backup of stage pr-4: not loaded`])
    expect(await tableContent(clients, 'stale')).toEqual([])
    expect(older).toContain('stale')
  })

  it('a backup of a table that still exists is not owed (nothing was deleted), and nothing is written into it', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'kept', items: sampleItems(2) })
    const before = await tableContent(clients, 'kept')
    const manifest = await exportAt('kept', Date.now())

    const result = await restoreBackups(
      oneRegion(clients),
      input({ tables: [{ name: 'kept', region: 'us-east-1' }], localManifests: [manifest] })
    )

    expect(result.outcome).toBe('nothing-to-do')
    expect(result.steps).toEqual([
      expect.objectContaining({
        action: 'restore',
        status: 'skipped',
        detail: expect.stringMatching(/the table it was taken of still exists/)
      })
    ])
    expect(await tableContent(clients, 'kept')).toEqual(before)
  })
})
