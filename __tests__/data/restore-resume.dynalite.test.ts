import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { exportTable } from '../../src/data/export.js'
import { restoreTable } from '../../src/data/restore.js'
import { Interrupted } from '../../src/errors.js'
import type { Logger, ProgressUpdate } from '../../src/types.js'
import { verifyTable } from '../../src/data/verify.js'
import type { Checkpoint } from '../../src/data/checkpoint.js'
import type { BackupManifest } from '../../src/data/manifest.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import {
  client,
  createTable,
  noWait,
  plainItem,
  putAll,
  scanAll,
  silentLogger,
  tableSnapshot,
  tempDir
} from './helpers.js'

let db: RunningDynalite
let ddb: DynamoDBClient
let tmp: { dir: string; cleanup: () => Promise<void> }
const ITEMS = 2000
const PK = { name: 'pk', type: 'S' } as const
const SK = { name: 'sk', type: 'N' } as const

beforeAll(async () => {
  db = await startDynalite()
  ddb = client(db.endpoint)
  tmp = await tempDir()
  await createTable(ddb, 'source', PK, SK)
  await putAll(
    ddb,
    'source',
    Array.from({ length: ITEMS }, (_, i) => plainItem(i))
  )
})
afterAll(async () => {
  ddb.destroy()
  await db.stop()
  await tmp.cleanup()
})

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch {
    return null
  }
}

/** The source table exported into `tmp/<name>`, and an empty target table `target` with its keys. */
async function exportAndTarget(
  name: string,
  target: string
): Promise<{ dir: string; manifest: BackupManifest }> {
  const dir = join(tmp.dir, name)
  const manifest = await exportTable(ddb, {
    table: 'source',
    dir,
    region: 'us-east-1',
    segments: 2,
    logger: silentLogger(),
    clock: noWait
  })
  await createTable(ddb, target, PK, SK)
  return { dir, manifest }
}

test('a restore killed with SIGKILL mid-way, started again, completes without redoing finished work and reports resumed', async () => {
  const { dir, manifest } = await exportAndTarget('backup', 'target')
  const manifestPath = join(dir, 'manifest.json')
  const checkpointPath = join(dir, 'restore-checkpoint.json')

  const child = spawn(
    process.execPath,
    [
      '--no-warnings',
      '--import',
      './scripts/register-ts.mjs',
      '__tests__/data/restore-child.ts',
      db.endpoint,
      manifestPath,
      'target',
      '15'
    ],
    {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>(resolve =>
    child.on('exit', (_code, signal) => resolve(signal === null ? _code : -1))
  )

  // Kill it once the checkpoint shows real progress (well before the end).
  const deadline = Date.now() + 30_000
  let seen: Checkpoint | null = null
  while (Date.now() < deadline) {
    seen = await readJson<Checkpoint>(checkpointPath)
    if (seen !== null && seen.itemsDone >= 300) break
    await new Promise(r => setTimeout(r, 10))
  }
  child.kill('SIGKILL')
  expect(await exited).toBe(-1)
  expect(output).not.toContain('"resumed"')
  const atKill = await readJson<Checkpoint>(checkpointPath)
  expect(atKill?.complete).toBe(false)
  expect(atKill?.itemsDone).toBeGreaterThanOrEqual(300)
  expect(atKill?.itemsDone).toBeLessThan(ITEMS)
  const partial = (await scanAll(ddb, 'target')).length
  expect(partial).toBeGreaterThanOrEqual(atKill?.itemsDone ?? 0)
  expect(partial).toBeLessThan(ITEMS)

  const report = await restoreTable(ddb, {
    manifestPath,
    table: 'target',
    logger: silentLogger(),
    clock: noWait
  })
  expect(report.resumed).toBe(true)
  expect(report.itemsSkipped).toBe(atKill?.itemsDone)
  // Only the in-flight window beyond the checkpoint (≤ 2 batches of 25) is sent twice.
  expect(report.itemsWritten).toBe(ITEMS - (atKill?.itemsDone ?? 0))
  expect(report.itemsWritten + report.itemsSkipped).toBe(ITEMS)

  expect((await tableSnapshot(ddb, 'target')).exact).toEqual((await tableSnapshot(ddb, 'source')).exact)
  await verifyTable(ddb, {
    table: 'target',
    expected: { itemCount: manifest.itemCount, contentDigest: manifest.contentDigest.value },
    logger: silentLogger()
  })

  // Running it once more is a no-op that says so.
  const again = await restoreTable(ddb, { manifestPath, table: 'target', logger: silentLogger() })
  expect(again).toMatchObject({ resumed: true, itemsWritten: 0, itemsSkipped: ITEMS })
}, 60_000)

test('an AbortSignal stops the restore after the batches in flight: Interrupted, a checkpoint of exactly what is written, and the next run resumes', async () => {
  const { dir, manifest } = await exportAndTarget('backup-abort', 'target-abort')
  const manifestPath = join(dir, 'manifest.json')
  const stop = new AbortController()
  const updates: ProgressUpdate[] = []
  // Ctrl-C once 300 items are confirmed (the sink sees every batch: interval 0).
  const logger: Logger = {
    ...silentLogger(),
    progress: {
      intervalMs: 0,
      update: p => {
        updates.push(p)
        if (p.done >= 300) stop.abort()
      }
    }
  }

  const stopped = restoreTable(ddb, {
    manifestPath,
    table: 'target-abort',
    logger,
    clock: noWait,
    signal: stop.signal
  })
  await expect(stopped).rejects.toThrow(Interrupted)
  await expect(stopped).rejects.toThrow(/Restore into target-abort interrupted/)
  const checkpoint = await readJson<Checkpoint>(join(dir, 'restore-checkpoint.json'))
  expect(checkpoint?.complete).toBe(false)
  expect(checkpoint?.itemsDone).toBeGreaterThanOrEqual(300)
  expect(checkpoint?.itemsDone).toBeLessThan(ITEMS)
  // Clean: every batch sent was confirmed and counted before the checkpoint was written.
  expect((await scanAll(ddb, 'target-abort')).length).toBe(checkpoint?.itemsDone)
  expect(updates.at(-1)?.state).toBe('stopped')

  const report = await restoreTable(ddb, {
    manifestPath,
    table: 'target-abort',
    logger: silentLogger(),
    clock: noWait
  })
  expect(report).toMatchObject({
    resumed: true,
    itemsSkipped: checkpoint?.itemsDone,
    itemsWritten: ITEMS - (checkpoint?.itemsDone ?? 0)
  })
  await verifyTable(ddb, {
    table: 'target-abort',
    expected: { itemCount: manifest.itemCount, contentDigest: manifest.contentDigest.value },
    logger: silentLogger()
  })
}, 60_000)

test('an export stopped by its signal throws Interrupted between pages and writes no manifest', async () => {
  const dir = join(tmp.dir, 'export-abort')
  const stop = new AbortController()
  const logger: Logger = {
    ...silentLogger(),
    progress: { intervalMs: 0, update: p => void (p.done >= 100 && stop.abort()) }
  }
  const exported = exportTable(ddb, {
    table: 'source',
    dir,
    region: 'us-east-1',
    segments: 2,
    pageItems: 10,
    logger,
    clock: noWait,
    signal: stop.signal
  })
  await expect(exported).rejects.toThrow(Interrupted)
  await expect(exported).rejects.toThrow(/Export of source interrupted/)
  expect(await readJson(join(dir, 'manifest.json'))).toBeNull()
})
