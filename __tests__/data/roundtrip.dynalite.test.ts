import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { BackupUnavailableError, createOnDemandBackup } from '../../src/aws/backup.js'
import { exportTable } from '../../src/data/export.js'
import { restoreTable } from '../../src/data/restore.js'
import { verifyTable } from '../../src/data/verify.js'
import { ContentDigest } from '../../src/data/digest.js'
import { createRunClients } from '../../src/run/clients.js'
import { installDataMiddleware } from '../../src/data/wire-middleware.js'
import { scanPageWire } from '../../src/data/raw-scan.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { sdkItemToWire, type WireItem } from '../../src/data/dynamodb-json.js'
import {
  client,
  createTable,
  exactItem,
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
const extraClients: DynamoDBClient[] = []

beforeAll(async () => {
  db = await startDynalite()
  ddb = client(db.endpoint)
  tmp = await tempDir()
})
afterAll(async () => {
  ddb.destroy()
  for (const c of extraClients) c.destroy()
  await db.stop()
  await tmp.cleanup()
})

describe('export → restore → verify on dynalite', () => {
  test.each<[string, () => DynamoDBClient, string]>([
    ['a plain SDK client', () => ddb, 'tricky'],
    [
      "the action's client (cacheMiddleware, the engine's middlewares installed at creation)",
      () => {
        // The action's clients take credentials from the default chain (here: the environment).
        process.env.AWS_ACCESS_KEY_ID ??= 'testing'
        process.env.AWS_SECRET_ACCESS_KEY ??= 'testing'
        const clients = createRunClients({ region: 'us-east-1', endpoint: db.endpoint })
        clients.cloudformation.destroy()
        extraClients.push(clients.dynamodb)
        return clients.dynamodb
      },
      'tricky-cached'
    ]
  ])(
    'tricky items (every type, 38-digit and extreme numbers, all byte values, empty values, astral text, 10-deep maps, ~400 KB items) come back byte-exact through %s',
    async (_name, makeClient, base) => {
      const ddb = makeClient()
      const src = `${base}-src`
      const dst = `${base}-dst`
      await createTable(ddb, src, { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
      await createTable(ddb, dst, { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
      const items = [...trickyItems(), ...Array.from({ length: 300 }, (_, i) => plainItem(i))]
      await putAll(ddb, src, items)
      const dir = join(tmp.dir, base)

      const manifest = await exportTable(ddb, {
        table: src,
        dir,
        region: 'us-east-1',
        segments: 3,
        logger: silentLogger(),
        clock: noWait
      })
      expect(manifest.itemCount).toBe(items.length)
      const report = await restoreTable(ddb, {
        manifestPath: join(dir, 'manifest.json'),
        table: dst,
        logger: silentLogger(),
        clock: noWait
      })
      expect(report).toMatchObject({ itemsWritten: items.length, itemsSkipped: 0, resumed: false })
      expect(report.expected).toMatchObject({
        itemCount: manifest.itemCount,
        contentDigest: manifest.contentDigest.value
      })

      const [before, after] = await Promise.all([tableSnapshot(ddb, src), tableSnapshot(ddb, dst)])
      expect(after.exact).toEqual(before.exact)
      expect(after.canonical).toEqual(before.canonical)
      // The digest the export computed from the wire bytes is the one the reference path (each
      // item decoded by the SDK, then canonicalItem) gives for the same table.
      const reference = new ContentDigest()
      for (const text of before.exact) reference.add(JSON.parse(text) as WireItem)
      expect(manifest.contentDigest.value).toBe(reference.hex())
      await expect(
        verifyTable(ddb, {
          table: dst,
          expected: { itemCount: manifest.itemCount, contentDigest: manifest.contentDigest.value },
          logger: silentLogger()
        })
      ).resolves.toMatchObject({ itemCount: items.length })
    }
  )

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

  test('many segments are scanned a few at a time: never more Scans in flight than parallelSegments, every item once', async () => {
    await createTable(ddb, 'many-seg', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
    const items = Array.from({ length: 240 }, (_, i) => plainItem(i))
    await putAll(ddb, 'many-seg', items)
    // The wrapped client carries the engine's middlewares and the wrapper makes each command carry
    // them too: both levels run, and every item must still be taken exactly once.
    installDataMiddleware(ddb)
    let inFlight = 0
    let peak = 0
    const counting = {
      send: (async (command: unknown) => {
        const scan = command instanceof ScanCommand
        if (scan) peak = Math.max(peak, ++inFlight)
        try {
          return await ddb.send(command as never)
        } finally {
          if (scan) inFlight--
        }
      }) as typeof ddb.send
    }
    const manifest = await exportTable(counting, {
      table: 'many-seg',
      dir: join(tmp.dir, 'many-seg'),
      region: 'us-east-1',
      segments: 12,
      parallelSegments: 3,
      pageItems: 7,
      logger: silentLogger(),
      clock: noWait
    })
    expect(peak).toBe(3)
    expect(manifest.itemCount).toBe(items.length)
    expect(manifest.scan.segments).toBe(12)
    const expected = await tableSnapshot(ddb, 'many-seg')
    const lines = manifest.dataFiles.flatMap(f =>
      gunzipSync(readFileSync(join(tmp.dir, 'many-seg', f.path)))
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map(l => JSON.stringify(exactItem((JSON.parse(l) as { Item: WireItem }).Item)))
    )
    expect(lines.sort()).toEqual(expected.exact)
  })

  test("Scan items arrive as the service's own text through every kind of sender (plain client, the action's caching client, a wrapper)", async () => {
    await createTable(ddb, 'via', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
    await putAll(ddb, 'via', [plainItem(1), plainItem(2)])
    process.env.AWS_ACCESS_KEY_ID ??= 'testing'
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing'
    const cached = createRunClients({ region: 'us-east-1', endpoint: db.endpoint })
    cached.cloudformation.destroy()
    extraClients.push(cached.dynamodb)
    const plain = client(db.endpoint)
    extraClients.push(plain)
    const wrapper = { send: ((command: never) => plain.send(command)) as typeof plain.send }
    for (const sender of [plain, cached.dynamodb, wrapper, plain]) {
      const page = await scanPageWire(sender, { TableName: 'via' }, items => items.length)
      expect(page).toMatchObject({ result: 2, via: 'wire' })
    }
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
    const err = await createOnDemandBackup(
      ddb,
      { table: 'no-backups', backupName: 'n' },
      { ...noWait, maxWaitMs: 60_000, pollMs: 1000 }
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackupUnavailableError)
    expect((err as Error).message).toMatch(
      /On-demand backup of no-backups is not supported by this DynamoDB endpoint \(UnknownOperationException\)/
    )
  })
})
