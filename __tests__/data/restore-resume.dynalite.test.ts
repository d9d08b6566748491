import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ScanCommand,
  type DynamoDBClient
} from '@aws-sdk/client-dynamodb'
import { exportTable } from '../../src/data/export.js'
import { CHECKPOINT_EVERY_ITEMS, MAX_BATCHES_AHEAD, restoreTable } from '../../src/data/restore.js'
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
  expect(atKill?.state).toBe('writing')
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
  expect(checkpoint?.state).toBe('writing')
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

describe('how much a resume writes twice', () => {
  const MANY = 5000
  let manifestPath: string

  beforeAll(async () => {
    await createTable(ddb, 'many-src', PK, SK)
    await putAll(
      ddb,
      'many-src',
      Array.from({ length: MANY }, (_, i) => plainItem(i))
    )
    const dir = join(tmp.dir, 'many')
    await exportTable(ddb, {
      table: 'many-src',
      dir,
      region: 'us-east-1',
      segments: 1,
      logger: silentLogger(),
      clock: noWait
    })
    manifestPath = join(dir, 'manifest.json')
  }, 60_000)

  it('one batch that never answers holds at most MAX_BATCHES_AHEAD batches started, and the checkpoint keeps up by items even when no time passes', async () => {
    await createTable(ddb, 'many-dst', PK, SK)
    const HUNG = 60 // the 60th BatchWriteItem hangs: 59 × 25 items before it are written
    let calls = 0
    let release!: () => void
    const released = new Promise<void>(r => (release = r))
    const hanging = {
      send: (async (command: unknown) => {
        if (command instanceof BatchWriteItemCommand && ++calls === HUNG) await released
        return ddb.send(command as BatchWriteItemCommand)
      }) as typeof ddb.send
    }
    // A clock that never moves: only the item count can trigger a checkpoint.
    const frozen = { now: () => 0, sleep: async () => undefined }
    const restore = restoreTable(hanging, {
      manifestPath,
      table: 'many-dst',
      logger: silentLogger(),
      clock: frozen,
      concurrency: 16
    })
    // Wait until no more requests go out (the pipeline is held by the hung batch).
    let seen = -1
    while (seen !== calls) {
      seen = calls
      await new Promise(r => setTimeout(r, 300))
    }
    expect(calls).toBeLessThanOrEqual(HUNG - 1 + MAX_BATCHES_AHEAD)
    expect(calls).toBeLessThan(MANY / 25)
    const checkpoint = await readJson<Checkpoint>(join(tmp.dir, 'many', 'restore-checkpoint.json'))
    expect(checkpoint?.state).toBe('writing')
    expect(checkpoint?.itemsDone).toBeGreaterThanOrEqual(CHECKPOINT_EVERY_ITEMS)
    expect(checkpoint?.itemsDone).toBeLessThanOrEqual((HUNG - 1) * 25)
    // A kill now would write again at most the items after the checkpoint: the ones before the
    // hung batch not yet in the checkpoint, and those started after it.
    const exposed = (calls - 1) * 25 - (checkpoint?.itemsDone ?? 0)
    expect(exposed).toBeLessThanOrEqual(CHECKPOINT_EVERY_ITEMS + MAX_BATCHES_AHEAD * 25)
    release()
    const report = await restore
    expect(report).toMatchObject({ itemsWritten: MANY, state: 'written' })
  }, 60_000)
})

describe('the checkpoint is bound to the table instance and says verified only after verification', () => {
  let manifestPath: string
  let checkpointPath: string

  beforeAll(async () => {
    const dir = join(tmp.dir, 'bound')
    await exportTable(ddb, {
      table: 'source',
      dir,
      region: 'us-east-1',
      segments: 2,
      logger: silentLogger(),
      clock: noWait
    })
    manifestPath = join(dir, 'manifest.json')
    checkpointPath = join(dir, 'restore-checkpoint.json')
  }, 60_000)

  it('a verified restore into a table deleted and created again starts over, once the new table is empty', async () => {
    await createTable(ddb, 'bound-dst', PK, SK)
    const first = await restoreTable(ddb, {
      manifestPath,
      table: 'bound-dst',
      logger: silentLogger(),
      clock: noWait,
      verify: true
    })
    expect(first).toMatchObject({ state: 'verified', itemsWritten: ITEMS })
    const again = await restoreTable(ddb, { manifestPath, table: 'bound-dst', logger: silentLogger() })
    expect(again).toMatchObject({ state: 'verified', itemsWritten: 0, resumed: true })

    await ddb.send(new DeleteTableCommand({ TableName: 'bound-dst' }))
    await waitGone('bound-dst')
    await createTable(ddb, 'bound-dst', PK, SK)
    const fresh = await restoreTable(ddb, {
      manifestPath,
      table: 'bound-dst',
      logger: silentLogger(),
      clock: noWait,
      verify: true
    })
    expect(fresh).toMatchObject({ state: 'verified', itemsWritten: ITEMS, resumed: false })
    expect(fresh.target.createdAt).not.toBe(first.target.createdAt)
  }, 60_000)

  it('a checkpoint of another instance does not let the restore write into a table that holds items', async () => {
    await ddb.send(new DeleteTableCommand({ TableName: 'bound-dst' }))
    await waitGone('bound-dst')
    await createTable(ddb, 'bound-dst', PK, SK)
    await putAll(ddb, 'bound-dst', [plainItem(999_999)])
    await expect(
      restoreTable(ddb, { manifestPath, table: 'bound-dst', logger: silentLogger(), clock: noWait })
    ).rejects.toThrow(/already holds items: .*checkpoint .* is of another instance of bound-dst/)
    expect(await scanAll(ddb, 'bound-dst')).toHaveLength(1)
  }, 60_000)

  it('a failed verification leaves the checkpoint at written; running again only verifies, and succeeds once the table is right', async () => {
    await ddb.send(new DeleteTableCommand({ TableName: 'bound-dst' }))
    await waitGone('bound-dst')
    await createTable(ddb, 'bound-dst', PK, SK)
    // Something writes an item the backup does not have, between the writes and the verification
    // (every segment's first page waits for that write).
    let meddled: Promise<unknown> | null = null
    const meddling = {
      send: (async (command: unknown) => {
        if (command instanceof ScanCommand && command.input.Select !== 'COUNT') {
          meddled ??= putAll(ddb, 'bound-dst', [plainItem(888_888)])
          await meddled
        }
        return ddb.send(command as ScanCommand)
      }) as typeof ddb.send
    }
    await expect(
      restoreTable(meddling, {
        manifestPath,
        table: 'bound-dst',
        logger: silentLogger(),
        clock: noWait,
        verify: true
      })
    ).rejects.toThrow(/Verification of bound-dst failed: item count: backup 2000, table 2001/)
    expect((await readJson<Checkpoint>(checkpointPath))?.state).toBe('written')

    await ddb.send(
      new DeleteItemCommand({
        TableName: 'bound-dst',
        Key: { pk: { S: `user#${888_888 % 97}` }, sk: { N: '888888' } }
      })
    )
    const lines: string[] = []
    const retried = await restoreTable(ddb, {
      manifestPath,
      table: 'bound-dst',
      logger: silentLogger(lines),
      clock: noWait,
      verify: true
    })
    expect(retried).toMatchObject({ state: 'verified', itemsWritten: 0, resumed: true })
    expect(lines.join('\n')).toMatch(/only the verification is left/)
    expect((await readJson<Checkpoint>(checkpointPath))?.state).toBe('verified')
  }, 60_000)
})

async function waitGone(table: string): Promise<void> {
  for (;;) {
    try {
      await ddb.send(new DescribeTableCommand({ TableName: table }))
    } catch {
      return
    }
    await new Promise(r => setTimeout(r, 100))
  }
}
