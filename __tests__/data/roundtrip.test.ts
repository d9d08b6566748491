import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { BackupUnavailableError, createOnDemandBackup } from '../../src/aws/backup.js'
import { exportTable } from '../../src/data/export.js'
import { restoreTable } from '../../src/data/restore.js'
import { verifyTable } from '../../src/data/verify.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { sdkItemToWire } from '../../src/data/dynamodb-json.js'
import {
  client,
  createTable,
  noSleep,
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

beforeAll(async () => {
  db = await startDynalite()
  ddb = client(db.endpoint)
  tmp = await tempDir()
})
afterAll(async () => {
  ddb.destroy()
  await db.stop()
  await tmp.cleanup()
})

describe('export → restore → verify on dynalite', () => {
  test('tricky items (every type, 38-digit and extreme numbers, all byte values, empty values, astral text, 10-deep maps, ~400 KB items) come back byte-exact', async () => {
    await createTable(ddb, 'tricky-src', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
    await createTable(ddb, 'tricky-dst', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
    const items = [...trickyItems(), ...Array.from({ length: 300 }, (_, i) => plainItem(i))]
    await putAll(ddb, 'tricky-src', items)
    const dir = join(tmp.dir, 'tricky')

    const manifest = await exportTable(ddb, {
      table: 'tricky-src',
      dir,
      region: 'us-east-1',
      segments: 3,
      logger: silentLogger(),
      sleep: noSleep
    })
    expect(manifest.itemCount).toBe(items.length)
    const report = await restoreTable(ddb, {
      manifestPath: join(dir, 'manifest.json'),
      table: 'tricky-dst',
      logger: silentLogger(),
      sleep: noSleep
    })
    expect(report).toMatchObject({ itemsWritten: items.length, itemsSkipped: 0, resumed: false })
    expect(report.expected).toMatchObject({
      itemCount: manifest.itemCount,
      contentDigest: manifest.contentDigest.value
    })

    const [src, dst] = await Promise.all([tableSnapshot(ddb, 'tricky-src'), tableSnapshot(ddb, 'tricky-dst')])
    expect(dst.exact).toEqual(src.exact)
    expect(dst.canonical).toEqual(src.canonical)
    await expect(
      verifyTable(ddb, {
        table: 'tricky-dst',
        expected: { itemCount: manifest.itemCount, contentDigest: manifest.contentDigest.value },
        logger: silentLogger()
      })
    ).resolves.toMatchObject({ itemCount: items.length })
  })

  test('data files are S3-export lines with DynamoDB JSON untouched: N stays text, B is base64', async () => {
    const dir = join(tmp.dir, 'tricky')
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      dataFiles: { path: string }[]
    }
    const lines = manifest.dataFiles.flatMap(f =>
      gunzipSync(readFileSync(join(dir, f.path)))
        .toString('utf8')
        .trimEnd()
        .split('\n')
    )
    const numbers = lines
      .map(l => JSON.parse(l) as { Item: Record<string, unknown> })
      .find(
        l =>
          JSON.stringify(l.Item.pk) === '{"S":"numbers"}' &&
          JSON.stringify(l.Item.sk) === '{"N":"12345678901234567890123456789012345678"}'
      )
    // Exactly the text the table returns (dynalite, like DynamoDB, spells 1E+125 in full), never
    // a JS number (which would read 1e+125 and lose digits of the 38-digit key).
    const stored = (await scanAll(ddb, 'tricky-src'))
      .map(sdkItemToWire)
      .find(i => JSON.stringify(i.sk) === '{"N":"12345678901234567890123456789012345678"}')
    expect(numbers?.Item).toEqual(stored)
    expect(numbers?.Item.big).toEqual({ N: `1${'0'.repeat(125)}` })
    const binaryLine = lines.find(l => l.includes('"reversed"')) as string
    expect(binaryLine.startsWith('{"Item":{')).toBe(true)
    expect((JSON.parse(binaryLine) as { Item: { all: { B: string } } }).Item.all.B).toBe(
      Buffer.from(Uint8Array.from({ length: 256 }, (_, i) => i)).toString('base64')
    )
  })

  test('verify names the difference when the restored table does not match', async () => {
    await createTable(ddb, 'short-dst', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
    await putAll(ddb, 'short-dst', [plainItem(1)])
    await expect(
      verifyTable(ddb, {
        table: 'short-dst',
        expected: { itemCount: 2, contentDigest: '0'.repeat(64) },
        logger: silentLogger()
      })
    ).rejects.toThrow(/item count: backup 2, table 1; content digest: backup 0{64}, table [0-9a-f]{64}/)
  })

  test('an endpoint without backups (dynalite: UnknownOperationException) is named as unsupported', async () => {
    await createTable(ddb, 'no-backups', { name: 'pk', type: 'S' })
    const err = await createOnDemandBackup(ddb, {
      table: 'no-backups',
      backupName: 'n',
      sleep: noSleep
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackupUnavailableError)
    expect((err as Error).message).toMatch(
      /On-demand backup of no-backups is not supported by this DynamoDB endpoint \(UnknownOperationException\)/
    )
  })
})
