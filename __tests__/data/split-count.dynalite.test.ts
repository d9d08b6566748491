/**
 * The export, the verification scan and the restore's checks read Scan pages through the same
 * byte-level splitter, so a splitter bug would agree with itself. Each page's split count is
 * checked against the page's own `Count`: a page whose split count differs fails loudly (the proxy
 * adds one to `Count`, which is what a splitter that lost an item would see), and is not retried.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AwsClients } from '../../src/aws/clients.js'
import { exportTable } from '../../src/data/export.js'
import { digestTable } from '../../src/data/verify.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { makeUnmanagedTable, sampleItems } from '../../test-support/orphans.js'
import { startTamperProxy, type TamperProxy } from '../../test-support/scan-tamper-proxy.js'

const TABLE = 'split-count'
const logger = { info: () => {}, warning: () => {}, debug: () => {} }
let dynalite: RunningDynalite
let proxy: TamperProxy
let direct: AwsClients
let miscounted: AwsClients
let dir: string

beforeAll(async () => {
  dynalite = await startDynalite()
  proxy = await startTamperProxy({ target: dynalite.endpoint, miscountScan: true })
  direct = testClients(dynalite.endpoint)
  miscounted = testClients(proxy.endpoint)
  dir = mkdtempSync(join(tmpdir(), 'split-count-'))
  await makeUnmanagedTable(direct.dynamodb, { tableName: TABLE, items: sampleItems(7) })
})
afterAll(async () => {
  destroyClients(direct)
  destroyClients(miscounted)
  rmSync(dir, { recursive: true, force: true })
  await proxy?.stop()
  await dynalite?.stop()
})

describe("a Scan page's split count is cross-checked with its Count", () => {
  it('pages whose Count matches are read as before', async () => {
    const found = await digestTable(direct.dynamodb, { table: TABLE, segments: 1 })
    expect(found.itemCount).toBe(7)
  })

  it('the comparison scan fails loudly, without retrying', async () => {
    const scans = proxy.operations.filter(op => op === 'Scan').length
    await expect(digestTable(miscounted.dynamodb, { table: TABLE, segments: 1 })).rejects.toThrow(
      /Scan page of split-count: 7 items were split from the response, but its Count is 8/
    )
    expect(proxy.operations.filter(op => op === 'Scan').length - scans).toBe(1)
  })

  it('the export fails loudly and writes no manifest', async () => {
    await expect(
      exportTable(miscounted.dynamodb, { table: TABLE, dir, region: 'us-east-1', logger, segments: 1 })
    ).rejects.toThrow(
      /Export of split-count failed: .*7 items were split from the response, but its Count is 8/
    )
  })
})
