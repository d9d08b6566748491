import { join } from 'node:path'
import { cp, readFile, truncate, writeFile } from 'node:fs/promises'
import { gunzipSync, gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { exportTable } from '../../src/data/export.js'
import { restoreTable } from '../../src/data/restore.js'
import { verifyTable } from '../../src/data/verify.js'
import { sdkItemToWire } from '../../src/data/dynamodb-json.js'
import type { BackupManifest } from '../../src/data/manifest.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { startFaultProxy } from '../../test-support/fault-proxy.js'
import { seededRandom } from '../../test-support/fault-proxy.js'
import {
  client,
  createTable,
  noWait,
  plainItem,
  putAll,
  scanAll,
  silentLogger,
  tableSnapshot,
  tempDir,
  trickyItems
} from './helpers.js'

let db: RunningDynalite
let ddb: DynamoDBClient
let tmp: { dir: string; cleanup: () => Promise<void> }
let backupDir: string
let tableNo = 0
const ITEMS = 600
const PK = { name: 'pk', type: 'S' } as const
const SK = { name: 'sk', type: 'N' } as const

async function freshTable(): Promise<string> {
  const name = `target-${++tableNo}`
  await createTable(ddb, name, PK, SK)
  return name
}

async function itemCount(table: string): Promise<number> {
  return (await scanAll(ddb, table)).length
}

/** A copy of the good backup to damage. */
async function backupCopy(
  name: string
): Promise<{ dir: string; manifest: BackupManifest; manifestPath: string }> {
  const dir = join(tmp.dir, name)
  await cp(backupDir, dir, { recursive: true })
  const manifestPath = join(dir, 'manifest.json')
  return { dir, manifestPath, manifest: JSON.parse(await readFile(manifestPath, 'utf8')) as BackupManifest }
}

/** Makes the manifest vouch for the (damaged) file, so the gzip/JSON checks are what catches it. */
async function resign(
  copy: { dir: string; manifest: BackupManifest; manifestPath: string },
  index = 0
): Promise<void> {
  const entry = copy.manifest.dataFiles[index] as BackupManifest['dataFiles'][number]
  entry.sha256 = createHash('sha256')
    .update(await readFile(join(copy.dir, entry.path)))
    .digest('hex')
  await writeFile(copy.manifestPath, JSON.stringify(copy.manifest))
}

beforeAll(async () => {
  db = await startDynalite()
  ddb = client(db.endpoint)
  tmp = await tempDir()
  await createTable(ddb, 'source', PK, SK)
  await putAll(ddb, 'source', [
    ...trickyItems().slice(0, 8),
    ...Array.from({ length: ITEMS - 8 }, (_, i) => plainItem(i))
  ])
  backupDir = join(tmp.dir, 'good')
  await exportTable(ddb, {
    table: 'source',
    dir: backupDir,
    region: 'us-east-1',
    segments: 2,
    logger: silentLogger(),
    clock: noWait
  })
})
afterAll(async () => {
  ddb.destroy()
  await db.stop()
  await tmp.cleanup()
})

describe('restore never loses an item through a misbehaving endpoint', () => {
  test('UnprocessedItems, throttling, HTTP 500 and dropped connections (seeded) end in identical content', async () => {
    const target = await freshTable()
    const proxy = await startFaultProxy({
      target: db.endpoint,
      seed: 7,
      unprocessed: 0.5,
      throttle: 0.2,
      serverError: 0.15,
      drop: 0.15
    })
    const viaProxy = client(proxy.endpoint)
    try {
      const report = await restoreTable(viaProxy, {
        manifestPath: join(backupDir, 'manifest.json'),
        table: target,
        logger: silentLogger(),
        clock: noWait,
        random: seededRandom(3),
        maxAttempts: 50
      })
      expect(proxy.stats.itemsUnprocessed).toBeGreaterThan(100)
      expect(proxy.stats.throttled).toBeGreaterThan(0)
      expect(proxy.stats.serverErrors).toBeGreaterThan(0)
      expect(proxy.stats.droppedBeforeForward + proxy.stats.droppedAfterForward).toBeGreaterThan(0)
      expect(report.retries.unprocessedItems).toBe(proxy.stats.itemsUnprocessed)
      expect(report.retries.throttled).toBe(proxy.stats.throttled)
      expect(report.retries.transient).toBe(
        proxy.stats.serverErrors + proxy.stats.droppedBeforeForward + proxy.stats.droppedAfterForward
      )
    } finally {
      viaProxy.destroy()
      await proxy.stop()
    }
    expect((await tableSnapshot(ddb, target)).exact).toEqual((await tableSnapshot(ddb, 'source')).exact)
  })

  test('a token-bucket endpoint (writes beyond N units/s come back unprocessed or throttled) loses nothing', async () => {
    const target = await freshTable()
    const proxy = await startFaultProxy({ target: db.endpoint, writeUnitsPerSecond: 600, burst: 50 })
    const viaProxy = client(proxy.endpoint)
    try {
      await restoreTable(viaProxy, {
        manifestPath: join(backupDir, 'manifest.json'),
        table: target,
        logger: silentLogger(),
        random: seededRandom(5)
      })
      expect(proxy.stats.itemsUnprocessed + proxy.stats.throttled).toBeGreaterThan(0)
    } finally {
      viaProxy.destroy()
      await proxy.stop()
    }
    expect((await tableSnapshot(ddb, target)).exact).toEqual((await tableSnapshot(ddb, 'source')).exact)
  })
})

describe('a damaged backup is refused before anything is written', () => {
  test('truncated gzip data file: error names the file, target stays empty', async () => {
    const copy = await backupCopy('truncated')
    const file = join(copy.dir, (copy.manifest.dataFiles[0] as { path: string }).path)
    await truncate(file, Math.floor((await readFile(file)).length / 2))
    await resign(copy)
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(new RegExp(`${file}: corrupt or truncated gzip data after line \\d+`))
    expect(await itemCount(target)).toBe(0)
  })

  test('corrupt gzip bytes: error names the file, target stays empty', async () => {
    const copy = await backupCopy('corrupt')
    const file = join(copy.dir, (copy.manifest.dataFiles[0] as { path: string }).path)
    const bytes = await readFile(file)
    for (let i = 200; i < 260; i++) bytes[i] = (bytes[i] as number) ^ 0x5a
    await writeFile(file, bytes)
    await resign(copy)
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(/corrupt or truncated gzip data|invalid UTF-8|not valid JSON/)
    expect(await itemCount(target)).toBe(0)
  })

  test('a bad JSON line in the second file: error names file and line, target stays empty', async () => {
    const copy = await backupCopy('bad-json')
    const entry = copy.manifest.dataFiles[1] as { path: string }
    const file = join(copy.dir, entry.path)
    const lines = gunzipSync(await readFile(file))
      .toString('utf8')
      .split('\n')
    lines[4] = (lines[4] as string).slice(0, 30)
    await writeFile(file, gzipSync(lines.join('\n')))
    await resign(copy, 1)
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(`${file}: line 5: not valid JSON`)
    expect(await itemCount(target)).toBe(0)
  })

  test('a data file that does not match its manifest sha256 is refused, target stays empty', async () => {
    const copy = await backupCopy('checksum')
    const entry = copy.manifest.dataFiles[0] as { path: string; sha256: string }
    const file = join(copy.dir, entry.path)
    const lines = gunzipSync(await readFile(file))
      .toString('utf8')
      .split('\n')
    lines[0] = (lines[0] as string).replace(/"S":"/, '"S":"tampered ')
    await writeFile(file, gzipSync(lines.join('\n')))
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(`${file}: sha256 is`)
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(`but the manifest says ${entry.sha256}`)
    expect(await itemCount(target)).toBe(0)
  })

  test('an item that is not valid DynamoDB JSON is refused with its line, target stays empty', async () => {
    const copy = await backupCopy('bad-item')
    const entry = copy.manifest.dataFiles[0] as { path: string }
    const file = join(copy.dir, entry.path)
    const lines = gunzipSync(await readFile(file))
      .toString('utf8')
      .split('\n')
    lines[2] = '{"Item":{"pk":{"S":"x"},"sk":{"N":"1"},"bad":{"Q":"?"}}}'
    await writeFile(file, gzipSync(lines.join('\n')))
    await resign(copy)
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(`${file}: line 3: Item.\`bad\`: attribute value must have exactly one of`)
    expect(await itemCount(target)).toBe(0)
  })

  test('a manifest whose item count disagrees with the files is refused', async () => {
    const copy = await backupCopy('count')
    copy.manifest.itemCount += 1
    await writeFile(copy.manifestPath, JSON.stringify(copy.manifest))
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { manifestPath: copy.manifestPath, table: target, logger: silentLogger() })
    ).rejects.toThrow(`the data files hold ${ITEMS} items but the manifest says ${ITEMS + 1}`)
    expect(await itemCount(target)).toBe(0)
  })
})

describe('pre-checks refuse before writing', () => {
  test('a missing target table', async () => {
    await expect(
      restoreTable(ddb, {
        manifestPath: join(backupDir, 'manifest.json'),
        table: 'no-such-table',
        logger: silentLogger()
      })
    ).rejects.toThrow('Restore target table no-such-table does not exist')
  })

  test('a target whose key schema does not fit the items (names and types)', async () => {
    await createTable(ddb, 'wrong-type', { name: 'pk', type: 'N' })
    await expect(
      restoreTable(ddb, {
        manifestPath: join(backupDir, 'manifest.json'),
        table: 'wrong-type',
        logger: silentLogger()
      })
    ).rejects.toThrow(
      /line 1: the item \(key hash [0-9a-f]{12}\) cannot go into wrong-type: key attribute `pk` has type S, the table wants N \(target key schema: `pk` HASH N; the backup's key schema is `pk` HASH S, `sk` RANGE N\)/
    )
    await createTable(ddb, 'wrong-name', { name: 'id', type: 'S' })
    await expect(
      restoreTable(ddb, {
        manifestPath: join(backupDir, 'manifest.json'),
        table: 'wrong-name',
        logger: silentLogger()
      })
    ).rejects.toThrow('key attribute `id` is missing')
    expect(await itemCount('wrong-type')).toBe(0)
    expect(await itemCount('wrong-name')).toBe(0)
  })

  test('a target that already holds items, unless merge is asked for', async () => {
    const target = await freshTable()
    await putAll(ddb, target, [{ pk: { S: 'already' }, sk: { N: '1' } }])
    await expect(
      restoreTable(ddb, {
        manifestPath: join(backupDir, 'manifest.json'),
        table: target,
        logger: silentLogger()
      })
    ).rejects.toThrow(`Restore target table ${target} already holds items`)
    expect(await itemCount(target)).toBe(1)
    const report = await restoreTable(ddb, {
      manifestPath: join(backupDir, 'manifest.json'),
      table: target,
      merge: true,
      logger: silentLogger()
    })
    expect(report.itemsWritten).toBe(ITEMS)
    expect(await itemCount(target)).toBe(ITEMS + 1)
  })
})

describe('an item DynamoDB refuses stops the restore, naming it', () => {
  test('a ValidationException (number out of range) names the item key, file and line; the checkpoint allows a resume', async () => {
    const items = Array.from({ length: 40 }, (_, i) => sdkItemToWire(plainItem(i)))
    items[17] = { ...items[17], score: { N: '1E+200' } }
    const file = join(tmp.dir, 'out-of-range.json')
    await writeFile(file, JSON.stringify({ Items: items }, null, 2))
    const target = await freshTable()
    const err = await restoreTable(ddb, {
      legacyFile: file,
      table: target,
      logger: silentLogger(),
      clock: noWait
    }).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(
      new RegExp(`the item at ${file} line \\d+ \\(key hash [0-9a-f]{12}\\) was refused: .*`)
    )
    // Never the key values, nor the value DynamoDB refused.
    expect((err as Error).message).not.toMatch(/user#17|1E\+200/)
    expect((err as { state?: string }).state).toMatch(/run the restore again to resume/)
    expect(await itemCount(target)).toBeLessThan(40)
  })
})

describe('legacy backups of the shell scripts', () => {
  test('an {"Items":[...]} file as `aws dynamodb scan` writes it restores, and verifies against its own digest', async () => {
    const items = (await scanAll(ddb, 'source')).map(sdkItemToWire)
    // The CLI's layout: 4-space indent, Items first, then Count/ScannedCount/ConsumedCapacity.
    const file = join(tmp.dir, 'pr-5-main-table-20250125-120000.json')
    await writeFile(
      file,
      JSON.stringify(
        { Items: items, Count: items.length, ScannedCount: items.length, ConsumedCapacity: null },
        null,
        4
      )
    )
    const target = await freshTable()
    const report = await restoreTable(ddb, { legacyFile: file, table: target, logger: silentLogger() })
    expect(report.itemsWritten).toBe(ITEMS)
    expect((await tableSnapshot(ddb, target)).exact).toEqual((await tableSnapshot(ddb, 'source')).exact)
    await expect(
      verifyTable(ddb, { table: target, expected: report.expected, logger: silentLogger() })
    ).resolves.toMatchObject({ itemCount: ITEMS })
  })

  test('a truncated legacy file is refused before writing, naming where it ends', async () => {
    const items = (await scanAll(ddb, 'source')).slice(0, 50).map(sdkItemToWire)
    const text = JSON.stringify({ Items: items }, null, 4)
    const file = join(tmp.dir, 'truncated-legacy.json')
    await writeFile(file, text.slice(0, Math.floor(text.length * 0.7)))
    const target = await freshTable()
    await expect(
      restoreTable(ddb, { legacyFile: file, table: target, logger: silentLogger() })
    ).rejects.toThrow(new RegExp(`${file}: truncated: the JSON ends at line \\d+ inside Items\\[\\d+\\]`))
    expect(await itemCount(target)).toBe(0)
  })
})
