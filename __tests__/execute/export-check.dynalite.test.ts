import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { exportTable } from '../../src/data/export.js'
import type { WireItem } from '../../src/data/dynamodb-json.js'
import type { BackupManifest } from '../../src/data/manifest.js'
import { itemMisfit, keyHash, type TargetKeys } from '../../src/data/key-fit.js'
import { checkExportOnDisk } from '../../src/execute/export-check.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { makeUnmanagedTable } from '../../test-support/orphans.js'
import type { AwsClients } from '../../src/aws/clients.js'

/** The new table: pk/sk strings, an LSI on createdAt (N), a GSI on email (S). */
const target: TargetKeys = {
  primary: [
    { name: 'pk', type: 'HASH', attributeType: 'S' },
    { name: 'sk', type: 'RANGE', attributeType: 'S' }
  ],
  keyTypes: { pk: 'S', sk: 'S', createdAt: 'N', email: 'S' }
}

describe('itemMisfit: can the item be written into the table the deploy creates?', () => {
  it.each<[string, WireItem, RegExp | null]>([
    [
      'a full item fits',
      { pk: { S: 'a' }, sk: { S: '1' }, createdAt: { N: '5' }, email: { S: 'x@y' } },
      null
    ],
    ['index keys may be absent (sparse index)', { pk: { S: 'a' }, sk: { S: '1' } }, null],
    ['a missing primary key attribute does not fit', { pk: { S: 'a' } }, /key attribute `sk` is missing/],
    ['a primary key of the wrong type does not fit', { pk: { N: '1' }, sk: { S: '1' } }, /`pk` has type N/],
    [
      'an LSI key of the wrong type does not fit',
      { pk: { S: 'a' }, sk: { S: '1' }, createdAt: { S: '2025-01-01' } },
      /index key attribute `createdAt` has type S, the new table wants N/
    ],
    [
      'an empty GSI key string does not fit',
      { pk: { S: 'a' }, sk: { S: '1' }, email: { S: '' } },
      /`email` is empty/
    ]
  ])('%s', (_rule, item, problem) => {
    const misfit = itemMisfit(item, target)
    if (problem === null) expect(misfit).toBeNull()
    else expect(misfit).toMatch(problem)
  })
})

describe('checkExportOnDisk: the export read back from disk, as the restore will read it', () => {
  let dynalite: RunningDynalite
  let clients: AwsClients
  let dir: string
  let manifest: BackupManifest
  const logger = { info: () => {}, warning: () => {}, debug: () => {} }

  beforeAll(async () => {
    dynalite = await startDynalite()
    clients = testClients(dynalite.endpoint)
    dir = mkdtempSync(join(tmpdir(), 'export-check-'))
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: 'orders',
      items: [
        { pk: { S: 'a' }, sk: { S: '1' }, createdAt: { N: '1' } },
        { pk: { S: 'b' }, sk: { S: '2' }, createdAt: { S: 'yesterday' } },
        { pk: { S: 'c' }, sk: { S: '3' } }
      ]
    })
    manifest = await exportTable(clients.dynamodb, {
      table: 'orders',
      dir,
      region: 'us-east-1',
      logger,
      segments: 1
    })
  })

  afterAll(async () => {
    destroyClients(clients)
    await dynalite.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('an intact export matches its manifest and counts the items that would not fit', async () => {
    const check = await checkExportOnDisk(manifest, dir, target)
    expect(check).toMatchObject({ items: 3, misfits: 1, problems: [] })
    // Named by file, line and a key hash salted with the manifest's salt; never by its key values.
    const hash = keyHash(
      { pk: { S: 'b' }, sk: { S: '2' } },
      manifest.table.keySchema,
      manifest.keyHashSalt ?? ''
    )
    expect(manifest.keyHashSalt).toMatch(/^[0-9a-f]{32}$/)
    expect(check.firstMisfit).toMatch(
      new RegExp(
        `^the item at data/segment-0-of-1\\.json\\.gz line \\d \\(key hash ${hash}\\): index key attribute \`createdAt\` has type S`
      )
    )
    expect(check.firstMisfit).not.toMatch(/"b"|'b'|=b|yesterday/)
  })

  it('a data file changed on disk is found (checksum, count and digest)', async () => {
    const file = join(dir, manifest.dataFiles[0]!.path)
    const original = readFileSync(file)
    const lines = gunzipSync(original).toString('utf8').trimEnd().split('\n')
    writeFileSync(file, gzipSync(`${lines.slice(1).join('\n')}\n`))
    try {
      const check = await checkExportOnDisk(manifest, dir, null)
      expect(check.problems).toEqual([
        expect.stringMatching(/sha256 .* differs from the manifest's/),
        'the files hold 2 items, the manifest says 3',
        'the content digest of the files differs from the manifest'
      ])
    } finally {
      writeFileSync(file, original)
    }
  })
})
