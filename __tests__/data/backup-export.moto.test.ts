/** The data engine against moto: one round trip of the tricky items, and on-demand backups. */
import { join } from 'node:path'
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { createOnDemandBackup, describeBackup } from '../../src/aws/backup.js'
import { exportTable } from '../../src/data/export.js'
import { restoreTable } from '../../src/data/restore.js'
import { verifyTable } from '../../src/data/verify.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  client,
  createTable,
  noWait,
  plainItem,
  putAll,
  silentLogger,
  tableSnapshot,
  tempDir,
  trickyItems
} from './helpers.js'

let moto: MotoServer
let ddb: DynamoDBClient
let tmp: { dir: string; cleanup: () => Promise<void> }

beforeAll(async () => {
  moto = await startMoto()
  ddb = client(moto.endpoint)
  tmp = await tempDir()
})
afterAll(async () => {
  ddb?.destroy()
  await moto?.stop()
  await tmp?.cleanup()
})

test('tricky items survive export → restore → verify on moto byte-exact', async () => {
  await createTable(ddb, 'moto-src', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
  await createTable(ddb, 'moto-dst', { name: 'pk', type: 'S' }, { name: 'sk', type: 'N' })
  // moto's item limit is 405,000 of its own measure, binary counted at its base64 length.
  const items = [
    ...trickyItems({ string: 395_000, binary: 295_000 }),
    ...Array.from({ length: 40 }, (_, i) => plainItem(i))
  ]
  await putAll(ddb, 'moto-src', items)
  const dir = join(tmp.dir, 'moto')
  const manifest = await exportTable(ddb, {
    table: 'moto-src',
    dir,
    region: 'us-east-1',
    stage: 'pr-5',
    segments: 2,
    logger: silentLogger(),
    clock: noWait
  })
  // Stage, region, account, ARN and creation time: what a later run recognises the backup by.
  const described = await ddb.send(new DescribeTableCommand({ TableName: 'moto-src' }))
  expect(manifest).toMatchObject({
    itemCount: items.length,
    stage: 'pr-5',
    table: {
      accountId: '123456789012',
      region: 'us-east-1',
      arn: described.Table?.TableArn,
      createdAt: described.Table?.CreationDateTime?.toISOString()
    }
  })
  await restoreTable(ddb, {
    manifestPath: join(dir, 'manifest.json'),
    table: 'moto-dst',
    logger: silentLogger(),
    clock: noWait
  })
  const [src, dst] = await Promise.all([tableSnapshot(ddb, 'moto-src'), tableSnapshot(ddb, 'moto-dst')])
  expect(dst.exact).toEqual(src.exact)
  await verifyTable(ddb, {
    table: 'moto-dst',
    expected: { itemCount: manifest.itemCount, contentDigest: manifest.contentDigest.value },
    logger: silentLogger()
  })
})

test('an on-demand backup on moto is AVAILABLE and described by its ARN', async () => {
  await createTable(ddb, 'moto-backup', { name: 'pk', type: 'S' })
  const b = await createOnDemandBackup(
    ddb,
    { table: 'moto-backup', backupName: 'orphan-guard-test' },
    { ...noWait, maxWaitMs: 60_000, pollMs: 1000 }
  )
  expect(b).toMatchObject({ status: 'AVAILABLE', name: 'orphan-guard-test' })
  expect(b.arn).toMatch(/^arn:aws:dynamodb:us-east-1:123456789012:table\/moto-backup\/backup\//)
  await expect(describeBackup(ddb, b.arn)).resolves.toMatchObject({ arn: b.arn, status: 'AVAILABLE' })
})
