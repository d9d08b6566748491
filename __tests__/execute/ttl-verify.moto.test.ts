/**
 * Items that expire (TTL) during the copy do not fail verification: the export and its
 * verification, and the restore and its verification, set apart the items whose TTL may pass
 * during the copy and compare the rest item for item; the report says how many expired items were
 * carried over or dropped. DynamoDB's TTL deleting an item between the export and the verification
 * scan is simulated by a proxy that leaves expired items out of Scan pages from the second pass on.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { CreateTableCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb'
import { readFileSync } from 'node:fs'
import type { AwsClients } from '../../src/aws/clients.js'
import type { BackupManifest } from '../../src/data/manifest.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { restoreBackups } from '../../src/execute/restore-backups.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, putItems, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import {
  startTamperProxy,
  type TamperOptions,
  type TamperProxy
} from '../../test-support/scan-tamper-proxy.js'
import {
  BACKUP_BUCKET,
  createBackupBucket,
  decisionOf,
  deps,
  fakeTime,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const TABLE = 'pr-7-sessions'
const TTL = { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }
/** Partition key only: the live table's sort key makes this backup-restore. */
const TEMPLATE = tableTemplate({
  tableName: TABLE,
  keys: { partition: { name: 'pk', type: 'S' } },
  properties: TTL
})

let moto: MotoServer
let ws: Workspace
const opened: AwsClients[] = []
const proxies: TamperProxy[] = []

beforeAll(async () => {
  moto = await startMoto()
})
afterAll(async () => {
  for (const c of opened) destroyClients(c)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  const direct = testClients(moto.endpoint)
  opened.push(direct)
  await createBackupBucket(direct)
  ws = workspace(TEMPLATE)
})
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop()
  ws.remove()
})

async function through(opts: Omit<TamperOptions, 'target'>) {
  const proxy = await startTamperProxy({ target: moto.endpoint, ...opts })
  proxies.push(proxy)
  const clients = testClients(proxy.endpoint)
  opened.push(clients)
  return { proxy, clients }
}

const { now } = fakeTime()
const NOW_S = Math.floor(now() / 1000)

/** 12 items: 8 with a TTL a day ahead, 3 whose TTL passed an hour ago (not yet deleted), 1 without. */
function items() {
  return sampleItems(12).map((item, i) => {
    if (i < 8) return { ...item, expiresAt: { N: String(NOW_S + 86_400) } }
    if (i < 11) return { ...item, expiresAt: { N: String(NOW_S - 3_600) } }
    return item
  })
}

async function orphanWithTtl(clients: AwsClients): Promise<void> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })
  await clients.dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: TABLE,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true }
    })
  )
  await putItems(clients.dynamodb, TABLE, items())
}

describe('TTL-aware verification', () => {
  it('an item expiring between the export and its verification does not fail it; the report says what was carried over and dropped', async () => {
    const direct = testClients(moto.endpoint)
    opened.push(direct)
    await orphanWithTtl(direct)
    const { proxy, clients } = await through({
      expireFromScanPass: { pass: 2, attribute: 'expiresAt', before: NOW_S }
    })
    const inputs = makeInputs(ws, { stackName: 'pr-7-db', strategy: 'auto', s3Bucket: BACKUP_BUCKET })
    const check = await runCheck(inputs, clients)
    expect(check.inspection.findings[0]?.live?.ttl).toEqual({ enabled: true, attributeName: 'expiresAt' })
    expect(decisionOf(check, TABLE)).toBe('backup-restore')

    const { result } = await executePlan(check, inputs, deps(clients))
    expect([result.outcome, result.stateNote]).toEqual(['resolved', undefined])
    expect(proxy.expired).toBe(3)
    const verify = result.steps.find(s => s.action === 'verify export')
    expect(verify?.detail).toMatch(
      /^9 items alive past the TTL cutoff, content digest equal to the table's; TTL on expiresAt: 3 item\(s\) whose TTL had passed were carried over, 3 expired during the copy/
    )

    const manifest = JSON.parse(readFileSync(result.backupManifests[0] ?? '', 'utf8')) as BackupManifest
    expect(manifest.itemCount).toBe(12)
    expect(manifest.ttl).toMatchObject({ attribute: 'expiresAt', expiring: 3, expired: 3 })
    expect(manifest.ttl?.alive.itemCount).toBe(9)

    // The deploy creates the table (partition key only) and the restore phase loads it; TTL deletes
    // the restored expired items again before the verification scan.
    await direct.dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }]
      })
    )
    const after = await through({ expireFromScanPass: { pass: 1, attribute: 'expiresAt', before: NOW_S } })
    const restored = await restoreBackups(oneRegion(after.clients), {
      backupDir: ws.backupDir,
      stage: inputs.stage,
      s3Bucket: null,
      localManifests: result.backupManifests,
      tables: [{ name: TABLE, region: 'us-east-1' }],
      dryRun: false,
      logger: deps(after.clients).logger,
      clock: deps(after.clients).clock
    })
    expect([restored.outcome, restored.stateNote]).toEqual(['restored', undefined])
    expect(restored.steps.find(s => s.action === 'verify')?.detail).toMatch(
      /^9 items alive past the TTL cutoff.*3 item\(s\) whose TTL had passed were carried over, 3 expired during the copy/
    )
    expect(await tableContent(direct, TABLE)).toHaveLength(12)
  })

  it('an item that is not expired and vanishes still fails the verification', async () => {
    const direct = testClients(moto.endpoint)
    opened.push(direct)
    await orphanWithTtl(direct)
    // Leaves out items whose TTL is a day ahead: not expired, so a real loss.
    const { clients } = await through({
      expireFromScanPass: { pass: 2, attribute: 'expiresAt', before: NOW_S + 90_000 }
    })
    const inputs = makeInputs(ws, { stackName: 'pr-7-db', strategy: 'auto', s3Bucket: BACKUP_BUCKET })
    const { result } = await executePlan(await runCheck(inputs, clients), inputs, deps(clients))
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(
      /does not match the table \(items alive past the TTL cutoff: export: 9 items, table: 1 items/
    )
    expect(await tableContent(direct, TABLE)).toHaveLength(12)
  })
})
