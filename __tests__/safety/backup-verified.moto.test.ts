/**
 * Safety rule: no table is deleted before its backup is verified (export complete and matching
 * the table; on-demand backup AVAILABLE when aws-backup), unless strategy delete with
 * allow-data-loss. Real servers: moto (CloudFormation, CreateBackup), dynalite (no CreateBackup).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import {
  isReadOnlyOperation,
  startRecordingProxy,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
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
  forge,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const RULE = 'no table is deleted before its backup is verified'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
/** Partition key only: the live table's sort key makes this a blocking key difference → backup-restore. */
const TEMPLATE = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })
const ITEMS = sampleItems(30)

let moto: MotoServer
let dynalite: RunningDynalite
let ws: Workspace
const opened: AwsClients[] = []
const proxies: Array<{ stop(): Promise<void> }> = []

function clientsAt(endpoint: string): AwsClients {
  const c = testClients(endpoint)
  opened.push(c)
  return c
}

beforeAll(async () => {
  ;[moto, dynalite] = await Promise.all([startMoto(), startDynalite()])
})
afterAll(async () => {
  for (const c of opened) destroyClients(c)
  await Promise.all([moto?.stop(), dynalite?.stop()])
})
beforeEach(async () => {
  await moto.reset()
  await createBackupBucket(clientsAt(moto.endpoint))
  ws = workspace(TEMPLATE)
})
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop()
  ws.remove()
})

/** Clients through a recording proxy (and optionally a tamper proxy) in front of moto. */
async function recorded(tamper?: Omit<TamperOptions, 'target'>): Promise<{
  clients: AwsClients
  rec: RecordingProxy
  tamperer: TamperProxy | null
}> {
  const tamperer = tamper ? await startTamperProxy({ target: moto.endpoint, ...tamper }) : null
  if (tamperer) proxies.push(tamperer)
  const rec = await startRecordingProxy(tamperer?.endpoint ?? moto.endpoint)
  proxies.push(rec)
  return { clients: clientsAt(rec.endpoint), rec, tamperer }
}

describe(RULE, () => {
  it('aws-backup on an endpoint whose CreateBackup fails: the table stays, outcome failed, the state note says nothing was deleted', async () => {
    // DynamoDB on dynalite (no CreateBackup), CloudFormation on moto.
    const ddbOnly = clientsAt(dynalite.endpoint)
    const clients: AwsClients = { ...clientsAt(moto.endpoint), dynamodb: ddbOnly.dynamodb }
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
    const before = await tableContent(clients, TABLE)
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('backup-restore')

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('failed')
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(result.stateNote).toMatch(/nothing (destructive )?was (changed|deleted|done)/i)
    expect(result.stateNote).toMatch(/aws-backup: false/)
    expect(result.steps.some(s => s.action === 'delete' && s.status === 'done')).toBe(false)
    // The backup is asked for last, of the fenced and verified table: the export before it is reported.
    expect(result.backupArns).toEqual([])
    expect(result.steps.map(s => s.action)).toEqual(expect.arrayContaining(['export', 'verify export']))
  })

  it('an export that does not match the table (one item missing from the export): DeleteTable is never called, the table is intact', async () => {
    const { clients, rec, tamperer } = await recorded({ dropOneScanItem: true })
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
    const before = await tableContent(clients, TABLE)
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', s3Bucket: BACKUP_BUCKET })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('backup-restore')

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(tamperer?.dropped).not.toBeNull()
    // The write fence went up before the scan that found the difference, and came down again.
    expect(rec.operations()).toContain('DynamoDB.PutResourcePolicy')
    expect(rec.operations().at(-1)).toBe('DynamoDB.DeleteResourcePolicy')
    expect(result.outcome).toBe('failed')
    expect(rec.operations()).not.toContain('DynamoDB.DeleteTable')
    expect(rec.operations()).not.toContain('DynamoDB.UpdateTable')
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(result.stateNote).toMatch(/does not match the table \(export: 29 items, table: 30 items/)
    expect(result.stateNote).toMatch(/untouched \(nothing was deleted\)/)
    expect(result.backupManifests).toEqual([])
  })

  it('backup AVAILABLE and export verified: the table is deleted, manifest and backup ARN are reported', async () => {
    const { clients, rec } = await recorded()
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('backup-restore')
    const checkCalls = rec.calls.length

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('resolved')
    expect(await tableContent(clients, TABLE)).toBeNull()
    expect(result.backupArns).toHaveLength(1)
    expect(result.backupArns[0]).toMatch(/^arn:aws:dynamodb:us-east-1:\d+:table\/pr-7-orders\/backup\//)
    expect(result.backupManifests).toHaveLength(1)
    const manifest = JSON.parse(readFileSync(result.backupManifests[0] as string, 'utf8')) as {
      itemCount: number
    }
    expect(manifest.itemCount).toBe(30)
    const done = result.steps.filter(s => s.status === 'done').map(s => s.action)
    expect(result.steps.every(s => s.status === 'done')).toBe(true)
    expect(done).toEqual([
      'export',
      'check export',
      'write fence',
      'verify export',
      'on-demand backup',
      'delete recorded',
      'delete'
    ])
    // The order on the wire: every Scan (export and verification), then the backup (of the fenced,
    // verified table: a set with only a backup exists only when its run reached the delete), then
    // the delete.
    const ops = rec.operations().slice(checkCalls)
    const del = ops.indexOf('DynamoDB.DeleteTable')
    expect(del).toBeGreaterThan(ops.indexOf('DynamoDB.CreateBackup'))
    expect(del).toBeGreaterThan(ops.lastIndexOf('DynamoDB.Scan'))
    const fence = ops.indexOf('DynamoDB.PutResourcePolicy')
    const backup = ops.indexOf('DynamoDB.CreateBackup')
    expect(fence).toBeGreaterThan(ops.indexOf('DynamoDB.Scan'))
    expect(ops.slice(fence, backup)).toContain('DynamoDB.Scan')
  })

  it('the exception: strategy delete with allow-data-loss deletes without an export', async () => {
    const { clients } = await recorded()
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'delete', allowDataLoss: true })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('delete')

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('resolved')
    expect(await tableContent(clients, TABLE)).toBeNull()
    expect(result.backupManifests).toEqual([])
    expect(existsSync(ws.backupDir)).toBe(false)
  })

  it('defense in depth: a forged delete of a table with data, without allow-data-loss, is refused by the executor', async () => {
    const { clients, rec } = await recorded()
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
    const before = await tableContent(clients, TABLE)
    const setupCalls = rec.calls.length
    for (const strategy of ['backup-restore', 'delete', 'auto'] as const) {
      const inputs = makeInputs(ws, { stackName: STACK, strategy })
      const check = await runCheck(inputs, clients)
      expect(decisionOf(check, TABLE)).not.toBe('delete')

      const { result } = await executePlan(forge(check, TABLE, 'delete'), inputs, deps(clients))

      expect(result.outcome).toBe('blocked')
      expect(result.stateNote).toMatch(/holds data and no verified backup exists/)
    }
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(
      rec
        .operations()
        .slice(setupCalls)
        .filter(op => !isReadOnlyOperation(op))
    ).toEqual([])
  })
})
