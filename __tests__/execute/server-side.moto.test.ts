/**
 * The server-side path of backup-restore on moto (DynamoDB, S3, CloudFormation, STS on one port):
 * the table's items go to S3 (DynamoDB's ExportTableToPointInTime with point-in-time recovery on,
 * else the action's streamed export), the table is deleted, ImportTable creates the template's
 * table from S3, its content is verified, and the IMPORT change set adopts it into its stack. moto
 * cannot play CloudFormation's side of an IMPORT change set, so the recording proxy's import
 * stand-in answers it (the requests are the action's own; the contract tests in import.test.ts pin
 * CloudFormation's answers).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteTableCommand,
  DescribeTableCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand
} from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { getObjectBytes, headObject, listObjects } from '../../src/aws/s3.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { runPhase } from '../../src/run/run-phase.js'
import type { BackupManifest } from '../../src/data/manifest.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { findRestoreStates } from '../../src/inspect/owed-restores.js'
import { importTableFromS3, waitForImport } from '../../src/aws/dynamodb-transfer.js'
import { fakeTime, T0 } from '../../test-support/execution.js'
import { waitForTable } from '../../src/aws/dynamodb-write.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  makeRetainedOrphan,
  putItems,
  tableTemplate,
  type Item
} from '../../test-support/orphans.js'
import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { restoreBackups } from '../../src/execute/restore-backups.js'
import { systemClock } from '../../src/types.js'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import {
  isReadOnlyOperation,
  startRecordingProxy,
  type InjectedError,
  type RecordedCall,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
import {
  BACKUP_BUCKET,
  createBackupBucket,
  deps,
  makeInputs,
  mutating,
  quietLogger,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const STACK = 'pr-7-db'
const TABLE = 'pr-7-orders'

/** Items of every DynamoDB type, each with `n` (the new sort key) and a GSI key on most. */
function items(count: number): Item[] {
  return Array.from({ length: count }, (_, i) => ({
    pk: { S: `order-${i}` },
    sk: { S: 'v1' },
    n: { N: String(1000 + i) },
    ...(i % 3 === 0 ? {} : { customer: { S: `c-${i % 7}` } }),
    b: { B: Buffer.from([i % 256, 0, 255]) },
    flag: { BOOL: i % 2 === 0 },
    nothing: { NULL: true },
    tags: { SS: ['a', `t${i}`] },
    nums: { NS: ['1', String(i + 2)] },
    doc: { M: { nested: { L: [{ S: 'x' }, { N: '1.50' }] } } }
  }))
}

/** The template: partition key pk, sort key n (N) instead of sk (S), a GSI on customer. */
const TEMPLATE = tableTemplate({
  tableName: TABLE,
  logicalId: 'Orders',
  keys: { partition: { name: 'pk', type: 'S' }, sort: { name: 'n', type: 'N' } },
  properties: {
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'n', AttributeType: 'N' },
      { AttributeName: 'customer', AttributeType: 'S' }
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byCustomer',
        KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' }
      }
    ]
  }
})

let moto: MotoServer
let rec: RecordingProxy
/** An error the proxy answers instead of forwarding (a run that stops at that call). */
let inject: ((call: RecordedCall) => InjectedError | undefined | Promise<InjectedError | undefined>) | null
let clients: AwsClients
let ws: Workspace

beforeAll(async () => {
  moto = await startMoto()
})
afterAll(async () => {
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  inject = null
  rec = await startRecordingProxy(moto.endpoint, { importStandIn: true, onRequest: call => inject?.(call) })
  clients = testClients(rec.endpoint)
  await createBackupBucket(clients)
  ws = workspace(TEMPLATE)
})
afterEach(async () => {
  destroyClients(clients)
  await rec.stop()
  ws.remove()
})

/** TTL on `expiresAt`, and 4 items with one: expired an hour before T0, a day after, ten days after (2). */
async function withTtl(enabled = true): Promise<void> {
  const t0 = Math.floor(T0 / 1000)
  if (enabled)
    await putItems(
      clients.dynamodb,
      TABLE,
      [t0 - 3_600, t0 + 86_400, t0 + 10 * 86_400, t0 + 10 * 86_400].map((at, i) => ({
        pk: { S: `session-${i}` },
        sk: { S: 'v1' },
        n: { N: String(2000 + i) },
        expiresAt: { N: String(at) }
      }))
    )
  await clients.dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: TABLE,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: enabled }
    })
  )
}

async function orphan(count: number, opts: { pitr?: boolean; ttl?: boolean } = {}): Promise<string[]> {
  await makeRetainedOrphan(clients, {
    stackName: STACK,
    tableName: TABLE,
    logicalId: 'Orders',
    items: items(count)
  })
  if (opts.ttl) await withTtl()
  if (opts.pitr)
    await clients.dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: TABLE,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }
      })
    )
  return (await tableContent(clients, TABLE)) ?? []
}

async function keysOf(table: string) {
  const t = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table
  return {
    keys: t?.KeySchema,
    gsis: t?.GlobalSecondaryIndexes?.map(g => g.IndexName)
  }
}

async function s3Keys(prefix = `${BACKUP_BUCKET.prefix}/`): Promise<string[]> {
  const keys: string[] = []
  for await (const page of listObjects(clients.s3, { bucket: BACKUP_BUCKET.bucket, prefix }))
    keys.push(...page.objects.map(o => o.key))
  return keys.sort()
}

/** The restore the table owes now, as every run finds it in AWS (kind, and the source and backup when owed). */
async function owed(): Promise<{ kind: string; source?: string; backup?: string }> {
  const [state] = await findRestoreStates(oneRegion(clients), {
    stage: 'pr-7',
    account: '123456789012', // moto's
    s3Bucket: BACKUP_BUCKET,
    tables: [{ name: TABLE, region: 'us-east-1' }],
    localManifests: []
  })
  const s = state?.state
  return s?.kind === 'owed'
    ? { kind: s.kind, source: s.source, backup: s.backup }
    : { kind: s?.kind ?? 'none' }
}

const S3_MANIFEST =
  /^s3:\/\/orphan-guard-test-backups\/copies\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/manifest\.json$/

function inputs(over: Parameters<typeof makeInputs>[1] extends infer T ? Partial<T> : never = {}) {
  return makeInputs(ws, {
    stackName: STACK,
    strategy: 'auto',
    s3Bucket: BACKUP_BUCKET,
    copyMode: 'server-side',
    ...over
  })
}

describe('copy-mode server-side', () => {
  it.each([
    ['off: the streamed export', false],
    ['on: DynamoDB ExportTableToPointInTime', true]
  ])(
    'point-in-time recovery %s → ImportTable with the new keys, verified, adopted; no item written by the runner',
    async (_how, pitr) => {
      const before = await orphan(60, { pitr })
      const run = inputs()
      const check = await runCheck(run, clients)
      const entry = check.plan.entries.find(e => e.table === TABLE)
      expect(entry?.decision).toBe('backup-restore')
      expect(entry?.copy).toBe('server-side')
      expect(entry?.reasons.join(' ')).toMatch(/Copy path: server-side \(copy-mode server-side\)/)
      const mark = rec.calls.length

      const { result } = await executePlan(check, run, deps(clients))

      if (process.env.DEBUG_STEPS) console.log(JSON.stringify(result.steps, null, 1))
      expect([result.outcome, result.stateNote]).toEqual(['resolved', undefined])
      expect(result.restoredItems).toBe(60)
      const ops = rec.calls.slice(mark).map(c => c.operation)
      expect(ops).not.toContain('DynamoDB.BatchWriteItem')
      expect(ops).not.toContain('DynamoDB.PutItem')
      expect(ops.includes('DynamoDB.ExportTableToPointInTime')).toBe(pitr)
      // The new table: the template's keys and GSI, the same items.
      expect(await keysOf(TABLE)).toEqual({
        keys: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'n', KeyType: 'RANGE' }
        ],
        gsis: ['byCustomer']
      })
      expect(await tableContent(clients, TABLE)).toEqual(before)
      // Deleted before ImportTable, ImportTable before the change set.
      const at = (op: string) => ops.indexOf(op)
      expect(at('DynamoDB.DeleteTable')).toBeGreaterThan(-1)
      expect(at('DynamoDB.DeleteTable')).toBeLessThan(at('DynamoDB.ImportTable'))
      expect(at('DynamoDB.ImportTable')).toBeLessThan(at('CloudFormation.CreateChangeSet'))
      expect(at('CloudFormation.CreateChangeSet')).toBeLessThan(at('CloudFormation.ExecuteChangeSet'))
      // The IMPORT change set: a new stack (the old one was deleted) holding exactly this table.
      expect(rec.imports).toHaveLength(1)
      const [imported] = rec.imports
      expect(imported).toMatchObject({
        stackName: STACK,
        newStack: true,
        executed: true,
        resources: [{ logicalId: 'Orders', type: 'AWS::DynamoDB::Table', physicalId: TABLE }]
      })
      const resource = (
        imported?.template as { Resources: Record<string, { Properties: Record<string, unknown> }> }
      ).Resources.Orders
      expect(resource?.Properties.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' }
      ])
      // The set's folder: the manifest, the import record, the restore marker.
      const keys = await s3Keys()
      const folder = (keys.find(k => k.endsWith('/manifest.json')) ?? '').slice(0, -'manifest.json'.length)
      expect(keys).toEqual(
        expect.arrayContaining([`${folder}manifest.json`, `${folder}import.json`, `${folder}restored.json`])
      )
      const manifest = JSON.parse(
        (await getObjectBytes(clients.s3, BACKUP_BUCKET.bucket, `${folder}manifest.json`)).toString('utf8')
      ) as BackupManifest
      expect(manifest.serverSide).toMatchObject({
        source: pitr ? 'dynamodb-export' : 'streamed-export',
        bucket: BACKUP_BUCKET.bucket,
        items: 60
      })
      expect(
        manifest.serverSide?.dataPrefix.startsWith(pitr ? `${folder}AWSDynamoDB/` : `${folder}data/`)
      ).toBe(true)
      // Recorded on the table, too.
      const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table
        ?.TableArn
      const tags =
        (await clients.dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags ?? []
      expect(tags.map(t => t.Key)).toEqual(
        expect.arrayContaining([
          'dynamodb-orphan-guard:restored-from',
          'dynamodb-orphan-guard:created-by-import'
        ])
      )
      // Each step says how long it took.
      const tableSteps = result.steps.filter(s => s.table === TABLE && s.status === 'done')
      expect(tableSteps.map(s => s.action)).toEqual(
        expect.arrayContaining([
          'durable copy',
          'delete',
          'import table',
          'verify import',
          'record restore',
          'import'
        ])
      )
      for (const s of tableSteps) expect(typeof s.durationMs).toBe('number')
      expect(await headObject(clients.s3, BACKUP_BUCKET.bucket, `${folder}restored.json`)).not.toBeNull()
      // Recorded only after the change set: nothing is owed once the stack holds the table.
      expect(ops.lastIndexOf('S3.PutObject')).toBeGreaterThan(at('CloudFormation.ExecuteChangeSet'))
      expect((await owed()).kind).toBe('restored')
    },
    60_000
  )
})

describe("the runner path's streamed export is ImportTable's input as it is", () => {
  it.each([
    ['off', false],
    ['on', true]
  ])(
    'point-in-time recovery %s on the source: the S3 copy of copy-mode runner, imported from its data/ folder unchanged, gives the same items',
    async (_how, pitr) => {
      const before = await orphan(45, { pitr })
      const run = inputs({ copyMode: 'runner' })
      const check = await runCheck(run, clients)
      expect(check.plan.entries.find(e => e.table === TABLE)?.copy).toBe('runner')
      const { result } = await executePlan(check, run, deps(clients))
      expect(result.outcome).toBe('resolved')
      expect(await tableContent(clients, TABLE)).toBeNull() // deleted; the deploy would re-create it

      // The copy in S3, as the runner path wrote it: nothing rewritten for ImportTable.
      const keys = await s3Keys()
      const folder = (keys.find(k => k.endsWith('/manifest.json')) ?? '').slice(0, -'manifest.json'.length)
      const data = keys.filter(k => k.startsWith(`${folder}data/`))
      expect(data.length).toBeGreaterThan(0)
      // Beside data/: the manifest, and the record of the delete (written right before DeleteTable).
      expect(keys.filter(k => k.startsWith(folder) && !k.startsWith(`${folder}data/`))).toEqual([
        `${folder}deleting.json`,
        `${folder}manifest.json`
      ])
      const manifest = JSON.parse(
        (await getObjectBytes(clients.s3, BACKUP_BUCKET.bucket, `${folder}manifest.json`)).toString('utf8')
      ) as BackupManifest
      expect(manifest.serverSide).toBeUndefined()

      const started = await importTableFromS3(clients.dynamodb, {
        bucket: BACKUP_BUCKET.bucket,
        keyPrefix: `${folder}data/`,
        clientToken: `runner-copy-${pitr ? 'pitr' : 'plain'}`,
        spec: {
          tableName: TABLE,
          keys: [
            { name: 'pk', type: 'HASH', attributeType: 'S' },
            { name: 'n', type: 'RANGE', attributeType: 'N' }
          ],
          attributeTypes: { pk: 'S', n: 'N' },
          billingMode: 'PAY_PER_REQUEST',
          gsis: [],
          sse: { enabled: false }
        }
      })
      const ended = await waitForImport(clients.dynamodb, started.arn, {
        ...fakeTime(),
        maxWaitMs: 600_000,
        pollMs: 1_000
      })
      expect([ended.status, ended.errorCount, ended.importedItems]).toEqual(['COMPLETED', 0, 45])
      expect(await tableContent(clients, TABLE)).toEqual(before)
    },
    60_000
  )
})

describe('ImportTable reports errors', () => {
  it('an item without the new key: no IMPORT change set, the restore stays owed in S3, the report names the count', async () => {
    await orphan(30, { pitr: true })
    // One item lacks n, the template's new sort key.
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'no-sort-key' }, sk: { S: 'v1' } } })
    )
    const run = inputs()
    const check = await runCheck(run, clients)
    const mark = rec.calls.length

    const { result } = await executePlan(check, run, deps(clients))

    expect(result.outcome).toBe('failed')
    const ops = rec.calls.slice(mark).map(c => c.operation)
    expect(ops).toContain('DynamoDB.ImportTable')
    expect(ops).not.toContain('CloudFormation.CreateChangeSet')
    expect(rec.imports).toEqual([])
    expect(result.stateNote).toMatch(
      /ImportTable of pr-7-orders ended FAILED: 1 item\(s\) failed, 30 of 31 imported/
    )
    expect(result.stateNote).toMatch(
      /pr-7-orders was deleted; its items are in the S3 copy s3:\/\/orphan-guard-test-backups\/copies\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/manifest\.json, and its restore is owed/
    )
    expect(result.stateNote).toMatch(/No IMPORT change set was created/)
    const failed = result.steps.find(s => s.status === 'failed' && s.action === 'import table')
    expect(failed?.detail).toMatch(/30 of 31 items imported, 1 failed/)
    // The owed state, in S3: the manifest is there, no restore marker.
    const keys = await s3Keys()
    expect(keys.some(k => k.endsWith('/manifest.json'))).toBe(true)
    expect(keys.some(k => k.endsWith('/import.json'))).toBe(true)
    expect(keys.some(k => k.endsWith('/restored.json'))).toBe(false)
    const now = await owed()
    expect(now).toMatchObject({ kind: 'owed', source: 's3' })
    expect(now.backup).toMatch(S3_MANIFEST)
  }, 60_000)

  it('the streamed export (point-in-time recovery off) finds the same item before the delete: nothing is deleted', async () => {
    const before = await orphan(30)
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'no-sort-key' }, sk: { S: 'v1' } } })
    )
    const run = inputs()
    const check = await runCheck(run, clients)
    const mark = rec.calls.length

    const { result } = await executePlan(check, run, deps(clients))

    expect(result.outcome).toBe('blocked')
    expect(result.stateNote).toMatch(
      /Refusing to delete pr-7-orders: 1 of 31 items do not fit the new table's keys/
    )
    const ops = rec.calls.slice(mark).map(c => c.operation)
    expect(ops).not.toContain('DynamoDB.DeleteTable')
    expect(ops).not.toContain('DynamoDB.ImportTable')
    expect((await tableContent(clients, TABLE))?.length).toBe(before.length + 1)
  }, 60_000)
})

const count = (op: string, from = 0): number => rec.calls.slice(from).filter(c => c.operation === op).length
/** The operations of `ops` that were called since `from` (none expected). */
const calledOf = (ops: string[], from: number): string[] => ops.filter(op => count(op, from) > 0)
const denied = (op: string) => (call: RecordedCall) =>
  call.operation === op
    ? { status: 400, type: 'AccessDeniedException', message: `injected: ${op} denied` }
    : undefined

/** A server-side run with `count` items that stops after the delete (ImportTable denied); returns the items. */
async function stoppedBeforeImport(
  count: number,
  opts: { pitr?: boolean; ttl?: boolean } = {}
): Promise<string[]> {
  const before = await orphan(count, opts)
  const run = inputs()
  inject = denied('DynamoDB.ImportTable')
  const first = await executePlan(await runCheck(run, clients), run, deps(clients))
  expect(first.result.outcome).toBe('failed')
  expect(await tableContent(clients, TABLE)).toBeNull()
  inject = null
  return before
}

describe('a server-side restore that stopped is resumed by the next run, never imported twice', () => {
  it('stopped while DynamoDB imported (DescribeImport failed): the next run verifies and adopts the table that import created', async () => {
    const before = await orphan(40)
    const run = inputs()
    inject = denied('DynamoDB.DescribeImport')
    const first = await executePlan(await runCheck(run, clients), run, deps(clients))
    expect(first.result.outcome).toBe('failed')
    expect(first.result.stateNote).toMatch(/its restore is owed.*it waits for this import/)
    expect(count('DynamoDB.ImportTable')).toBe(1)
    expect(rec.imports).toEqual([])

    inject = null
    const mark = rec.calls.length
    const check = await runCheck(run, clients)
    const entry = check.plan.entries.find(e => e.table === TABLE)
    expect([entry?.decision, entry?.copy]).toEqual(['backup-restore', 'server-side'])
    expect(entry?.reasons.join(' ')).toMatch(
      /its server-side restore is unfinished: the import .* created it: its content is now verified against the copy \(no second import\)/
    )
    const second = await executePlan(check, run, deps(clients))

    expect([second.result.outcome, second.result.stateNote]).toEqual(['resolved', undefined])
    expect(count('DynamoDB.ImportTable', mark)).toBe(0)
    expect(count('DynamoDB.Scan', mark)).toBeGreaterThan(0)
    expect(rec.imports.map(i => i.resources[0]?.physicalId)).toEqual([TABLE])
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(second.result.restoredItems).toBe(40)

    // A third run finds the table in its stack: nothing to do.
    const third = await runCheck(run, clients)
    expect(third.plan.entries.find(e => e.table === TABLE)?.decision).toBe('none')
  }, 60_000)

  it("with TTL on, resumed three days later: the imported table (ImportTable sets no TTL) is verified past the copy's TTL cutoff; with TTL turned on by hand it is not", async () => {
    const before = await orphan(20, { ttl: true })
    const run = inputs()
    inject = denied('DynamoDB.DescribeImport')
    const first = await executePlan(await runCheck(run, clients), run, deps(clients))
    expect(first.result.outcome).toBe('failed')
    inject = null
    const late = () => ({ ...deps(clients), clock: fakeTime(T0 + 3 * 86_400_000) })

    await clients.dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: TABLE,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true }
      })
    ) // by hand, on the table the import created
    const refused = await executePlan(await runCheck(run, clients), run, late())
    expect(refused.result.outcome).toBe('failed')
    expect(refused.result.stateNote).toMatch(
      /Verification of pr-7-orders ran past its TTL cutoff \(2025-03-04T11:06:07\.000Z\).*; TTL is on for pr-7-orders \(or its state could not be read\), though ImportTable sets none .*Turn TTL off on pr-7-orders \(the deploy turns it on again\)/
    )
    expect(rec.imports).toEqual([])

    await withTtl(false)
    const second = await executePlan(await runCheck(run, clients), run, late())
    expect([second.result.outcome, second.result.stateNote]).toEqual(['resolved', undefined])
    expect(second.result.steps.find(s => s.action === 'verify import')?.status).toBe('done')
    expect(count('DynamoDB.ImportTable')).toBe(1)
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }, 60_000)

  it('stopped before its IMPORT change set (CreateChangeSet failed): the restore stays owed, and the next run adopts the verified table without a second import or scan, strategy backup-restore too', async () => {
    const before = await orphan(25)
    const run = inputs({ strategy: 'backup-restore' })
    inject = denied('CloudFormation.CreateChangeSet')
    const first = await executePlan(await runCheck(run, clients), run, deps(clients))
    expect(first.result.outcome).toBe('failed')
    expect(first.result.stateNote).toMatch(
      /re-created by ImportTable and verified, but it could not be imported into stack pr-7-db/
    )
    expect(first.result.stateNote).toMatch(/its restore is owed from that copy/)
    expect(first.result.stateNote).toMatch(/imports the table into its stack \(never a second ImportTable/)
    const owedNow = await owed()
    expect(owedNow).toMatchObject({ kind: 'owed', source: 's3' })
    expect(owedNow.backup).toMatch(S3_MANIFEST)

    inject = null
    const check = await runCheck(run, clients)
    const mark = rec.calls.length
    const entry = check.plan.entries.find(e => e.table === TABLE)
    expect([entry?.decision, entry?.copy]).toEqual(['backup-restore', 'server-side'])
    expect(entry?.reasons.join(' ')).toMatch(
      /an earlier run verified it against the copy: it is adopted now \(no second import, no second scan\)/
    )
    const second = await executePlan(check, run, deps(clients))

    expect([second.result.outcome, second.result.stateNote]).toEqual(['resolved', undefined])
    expect(
      calledOf(
        ['DynamoDB.ImportTable', 'DynamoDB.DeleteTable', 'DynamoDB.Scan', 'DynamoDB.CreateBackup'],
        mark
      )
    ).toEqual([])
    expect(rec.imports.map(i => i.resources[0]?.physicalId)).toEqual([TABLE])
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(second.result.restoredItems).toBe(25)
    expect((await owed()).kind).toBe('restored')
  }, 60_000)

  it('stopped after its IMPORT change set, before recording the restore: the next pre-deploy run records it (no copy, no scan) and nothing is owed', async () => {
    const before = await orphan(25)
    const run = inputs()
    // Both records of step 7 fail: the run stops with the table adopted and the restore unrecorded.
    inject = call =>
      (call.operation === 'S3.PutObject' && (call.target ?? '').endsWith('/restored.json')) ||
      (call.operation === 'DynamoDB.TagResource' && call.body.includes('restored-from'))
        ? { status: 400, type: 'AccessDeniedException', message: `injected: ${call.operation} denied` }
        : undefined
    const first = await executePlan(await runCheck(run, clients), run, deps(clients))
    expect(first.result.outcome).toBe('failed')
    expect(first.result.stateNote).toMatch(
      /pr-7-orders is imported, verified and in its stack, but the restore could not be recorded/
    )
    expect(rec.imports.map(i => [i.resources[0]?.physicalId, i.executed])).toEqual([[TABLE, true]])
    expect((await owed()).kind).toBe('owed')

    inject = null
    // A dry run says so and changes nothing.
    const dry = inputs({ dryRun: true })
    const dryCheck = await runCheck(dry, clients)
    const dryMark = rec.calls.length
    const planned = await executePlan(dryCheck, dry, deps(clients))
    expect(planned.result.outcome).toBe('dry-run')
    expect(
      mutating(
        rec.calls.slice(dryMark).map(c => c.operation),
        isReadOnlyOperation
      )
    ).toEqual([])
    expect(planned.result.steps.map(s => `${s.action}:${s.status}`)).toEqual(['record restore:planned'])

    const mark = rec.calls.length
    const second = await runPhase(run, { ...deps(clients), runId: '' })

    const entry = second.result.plan?.entries.find(e => e.table === TABLE)
    expect([entry?.owner, entry?.decision]).toEqual(['stack', 'none'])
    expect(entry?.recordRestore).toMatch(S3_MANIFEST)
    expect(entry?.reasons.join(' ')).toMatch(
      /an earlier run re-created it by ImportTable .* verified it against that copy .* but stopped before recording the restore\. This run records it/
    )
    expect([second.result.outcome, second.result.stateNote]).toEqual(['resolved', undefined])
    expect(second.result.steps.filter(s => s.table === TABLE).map(s => `${s.action}:${s.status}`)).toEqual([
      'write fence removed:done', // moto keeps the deleted table's resource policy for the imported one
      'record restore:done'
    ])
    expect(
      calledOf(
        [
          'DynamoDB.ImportTable',
          'DynamoDB.DeleteTable',
          'DynamoDB.BatchWriteItem',
          'CloudFormation.CreateChangeSet'
        ],
        mark
      )
    ).toEqual([])
    // Only the inspection's Scan (Limit 1: does it hold data?), no verification scan.
    const scans = rec.calls.slice(mark).filter(c => c.operation === 'DynamoDB.Scan')
    expect(scans.map(c => (JSON.parse(c.body) as { Limit?: number }).Limit)).toEqual([1])
    // restore-needed: false.
    expect(second.result.pendingRestores).toEqual([])
    expect((await owed()).kind).toBe('restored')
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }, 60_000)

  it('stopped between the delete and ImportTable: the next run imports the copy (the table is gone)', async () => {
    const before = await stoppedBeforeImport(20)
    const run = inputs()
    const check = await runCheck(run, clients)
    const entry = check.plan.entries.find(e => e.table === TABLE)
    expect([entry?.exists, entry?.decision, entry?.copy]).toEqual([false, 'backup-restore', 'server-side'])
    expect(entry?.reasons.join(' ')).toMatch(/ImportTable now creates it from that copy/)
    const mark = rec.calls.length
    const second = await executePlan(check, run, deps(clients))

    expect([second.result.outcome, second.result.stateNote]).toEqual(['resolved', undefined])
    expect(count('DynamoDB.ImportTable', mark)).toBe(1)
    expect(count('DynamoDB.BatchWriteItem', mark)).toBe(0)
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }, 60_000)

  it('an import that failed on items is retried once the template is fixed: the partial table it created is deleted first', async () => {
    await orphan(30, { pitr: true })
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'no-sort-key' }, sk: { S: 'v1' } } })
    )
    const before = await tableContent(clients, TABLE)
    const run = inputs()
    const first = await executePlan(await runCheck(run, clients), run, deps(clients))
    expect(first.result.outcome).toBe('failed')
    expect((await tableContent(clients, TABLE))?.length).toBe(30) // the partial table the import left

    // The fix: the template keeps sk as the sort key, which every item has.
    const fixed = workspace(
      tableTemplate({ tableName: TABLE, logicalId: 'Orders', properties: { BillingMode: 'PAY_PER_REQUEST' } })
    )
    try {
      const again = makeInputs(fixed, {
        stackName: STACK,
        strategy: 'auto',
        s3Bucket: BACKUP_BUCKET,
        copyMode: 'server-side'
      })
      const check = await runCheck(again, clients)
      const entry = check.plan.entries.find(e => e.table === TABLE)
      expect([entry?.decision, entry?.copy]).toEqual(['backup-restore', 'server-side'])
      expect(entry?.reasons.join(' ')).toMatch(
        /ended FAILED and left pr-7-orders with part of the items: that table .* is deleted and ImportTable runs again/
      )
      const mark = rec.calls.length
      const second = await executePlan(check, again, deps(clients))

      expect([second.result.outcome, second.result.stateNote]).toEqual(['resolved', undefined])
      expect(count('DynamoDB.DeleteTable', mark)).toBe(1)
      expect(count('DynamoDB.ImportTable', mark)).toBe(1)
      expect(await tableContent(clients, TABLE)).toEqual(before)
    } finally {
      fixed.remove()
    }
  }, 60_000)
})

/** Phase restore after the deploy, on a runner that has nothing (a fresh backup-dir). */
async function restorePhase() {
  const fresh = mkdtempSync(join(tmpdir(), 'orphan-guard-restore-runner-'))
  try {
    return await restoreBackups(oneRegion(clients), {
      backupDir: fresh,
      stage: 'pr-7',
      s3Bucket: BACKUP_BUCKET,
      tables: [{ name: TABLE, region: 'us-east-1' }],
      localManifests: [],
      dryRun: false,
      logger: quietLogger,
      clock: systemClock
    })
  } finally {
    rmSync(fresh, { recursive: true, force: true })
  }
}

describe("phase restore loads DynamoDB's own export when the server-side path is not resumed", () => {
  /** PITR on, ImportTable denied after the delete; then a pre-deploy run with copy-mode runner and the deploy. */
  async function stoppedAfterDelete(
    count: number,
    opts: { ttl?: boolean } = {}
  ): Promise<{ before: string[]; dataPrefix: string; exportArn: string }> {
    const before = await stoppedBeforeImport(count, { pitr: true, ...opts })
    const owedNow = await owed()
    expect(owedNow).toMatchObject({ kind: 'owed', source: 's3' })
    const manifest = JSON.parse(
      (
        await getObjectBytes(
          clients.s3,
          BACKUP_BUCKET.bucket,
          (owedNow.backup ?? '').replace(`s3://${BACKUP_BUCKET.bucket}/`, '')
        )
      ).toString('utf8')
    ) as BackupManifest
    expect(manifest.dataFormat).toBe('DYNAMODB_EXPORT')

    // The next pre-deploy run takes the runner path: the server-side restore is not resumed.
    const runner = inputs({ copyMode: 'runner' })
    const check = await runCheck(runner, clients)
    const entry = check.plan.entries.find(e => e.table === TABLE)
    expect(entry?.decision).toBe('none')
    expect(entry?.reasons.join(' ')).toMatch(
      /not resumed server-side \(copy-mode is runner\): phase restore loads the copy after the deploy/
    )
    expect((await executePlan(check, runner, deps(clients))).result.outcome).toBe('nothing-to-do')
    await createStackAndWait(clients, STACK, TEMPLATE) // the deploy: an empty table with the new keys
    return {
      before,
      dataPrefix: manifest.serverSide?.dataPrefix ?? '',
      exportArn: manifest.serverSide?.export?.arn ?? ''
    }
  }

  it('ImportTable failed after the delete, copy-mode runner next: phase restore loads the export, identical content, restore recorded', async () => {
    const { before } = await stoppedAfterDelete(35)
    const mark = rec.calls.length

    const result = await restorePhase()

    expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
    expect(result.restoredItems).toBe(35)
    expect(await tableContent(clients, TABLE)).toEqual(before)
    const download = result.steps.find(s => s.action === 'download')
    expect(download?.detail).toMatch(
      /^DynamoDB's export .* \(1 data files, \d+ bytes fetched\) into .*: its 35 items equal the table as it was scanned before the delete/
    )
    expect(result.steps.map(s => `${s.action}:${s.status}`)).toEqual([
      'write fence removed:done', // moto keeps the deleted table's resource policy for the new one
      'download:done',
      'restore:done',
      'verify:done',
      'record restore:done'
    ])
    expect(count('DynamoDB.RestoreTableFromBackup', mark)).toBe(0)
    expect((await owed()).kind).toBe('restored')
  }, 60_000)

  it("with TTL on, loaded long after the export (the system clock, years after T0): verified by the restore's own window", async () => {
    const { before } = await stoppedAfterDelete(15, { ttl: true })

    const result = await restorePhase()

    expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
    expect(result.steps.find(s => s.action === 'verify')?.detail).toMatch(
      /^15 items alive past the TTL cutoff, content digest equal to the backup's; TTL on expiresAt: 4 item\(s\) whose TTL had passed were carried over, 0 expired during the copy/
    )
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }, 60_000)

  it('an export changed after the delete (same count) is refused before anything is written', async () => {
    const { dataPrefix } = await stoppedAfterDelete(20)
    await tamperFirstDataFile(dataPrefix)
    const mark = rec.calls.length

    const result = await restorePhase()

    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(
      /DynamoDB's export could not be used: the export's items are not the ones the table held when it was scanned behind the write fence: content digest/
    )
    expect(count('DynamoDB.BatchWriteItem', mark)).toBe(0)
    expect(await tableContent(clients, TABLE)).toEqual([])
    expect((await owed()).kind).toBe('owed')
  }, 60_000)

  describe("checked against DynamoDB's own manifest files (real AWS writes them, moto does not)", () => {
    /** Stopped after the delete as above (20 items), DynamoDB's manifest files written as `change` says; then phase restore. */
    async function restoreWith(change: ManifestChange = {}) {
      const { before, dataPrefix, exportArn } = await stoppedAfterDelete(20)
      expect(exportArn).toMatch(/^arn:aws:dynamodb:/)
      const lines = await writeExportManifests(dataPrefix, exportArn, change)
      const mark = rec.calls.length
      const result = await restorePhase()
      return { before, dataPrefix, exportArn, lines, mark, result }
    }

    /** Refused while downloading: nothing written to the table, the restore still owed. */
    async function expectRefused(got: Awaited<ReturnType<typeof restoreWith>>, why: RegExp) {
      expect(got.result.outcome).toBe('failed')
      expect(got.result.stateNote).toMatch(/DynamoDB's export could not be used: /)
      expect(got.result.stateNote).toMatch(why)
      expect(got.result.steps.map(s => `${s.action}:${s.status}`)).not.toContain('restore:done')
      expect(count('DynamoDB.BatchWriteItem', got.mark)).toBe(0)
      expect(await tableContent(clients, TABLE)).toEqual([])
      expect((await owed()).kind).toBe('owed')
    }

    /** `text` as a regular expression matching exactly it. */
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    const uri = (key: string) => literal(`s3://${BACKUP_BUCKET.bucket}/${key}`)

    it('manifests as DynamoDB writes them: each data file checked against manifest-files.json, the export loaded', async () => {
      const { before, lines, mark, result } = await restoreWith()

      expect(lines).toHaveLength(1)
      expect([result.outcome, result.stateNote]).toEqual(['restored', undefined])
      expect(result.restoredItems).toBe(20)
      expect(await tableContent(clients, TABLE)).toEqual(before)
      expect(result.steps.find(s => s.action === 'download')?.detail).toMatch(
        /\(1 data files, \d+ bytes fetched, each checked against DynamoDB's manifest-files\.json\)/
      )
      // Each of DynamoDB's manifest files read once.
      const reads = rec.calls
        .slice(mark)
        .filter(
          c => c.operation === 'S3.GetObject' && /\/manifest-(summary|files)\.json$/.test(c.target ?? '')
        )
        .map(c => (c.target ?? '').replace(/^.*\//, ''))
      expect(reads).toEqual(['manifest-summary.json', 'manifest-files.json'])
    }, 60_000)

    it("a data file whose MD5 is not manifest-files.json's md5Checksum is refused before anything is written, naming the file", async () => {
      const wrong = createHash('md5').update('another file').digest('base64')
      const got = await restoreWith({ files: lines => lines.map(l => ({ ...l, md5Checksum: wrong })) })

      const [line] = got.lines
      await expectRefused(
        got,
        new RegExp(
          `${uri(line?.dataFileS3Key ?? '')} has MD5 \\S+, DynamoDB's manifest-files\\.json says ${literal(wrong)}: the file changed or is damaged since the export`
        )
      )
    }, 60_000)

    it("a data file holding other than manifest-files.json's itemCount is refused", async () => {
      const got = await restoreWith({
        files: lines => lines.map(l => ({ ...l, itemCount: l.itemCount + 1 }))
      })

      await expectRefused(
        got,
        new RegExp(
          `${uri(got.lines[0]?.dataFileS3Key ?? '')} holds 20 items, DynamoDB's manifest-files\\.json says 21`
        )
      )
    }, 60_000)

    it('a data file whose ETag is not the one manifest-files.json lists is refused', async () => {
      const got = await restoreWith({ files: lines => lines.map(l => ({ ...l, etag: 'e'.repeat(32) })) })

      await expectRefused(
        got,
        new RegExp(`${uri(got.lines[0]?.dataFileS3Key ?? '')} has ETag \\S+, the export says e{32}`)
      )
    }, 60_000)

    it('a data file manifest-files.json lists that is not in S3 is refused, naming it', async () => {
      // Listed besides the one moto wrote, as a file deleted since the export would be.
      const got = await restoreWith({
        files: lines => [
          ...lines,
          ...lines.map(l => ({ ...l, dataFileS3Key: l.dataFileS3Key.replace(/[^/]+$/, 'gone.json.gz') }))
        ]
      })

      await expectRefused(got, new RegExp(`${uri(`${got.dataPrefix}gone.json.gz`)} does not exist`))
    }, 60_000)

    it('manifest-summary.json of another export (its exportArn) is refused', async () => {
      const got = await restoreWith({
        summary: s => ({ ...s, exportArn: String(s.exportArn).replace(/[^/]+$/, '01700000000000-0ther000') })
      })

      await expectRefused(
        got,
        new RegExp(
          `${uri(`${got.dataPrefix.replace(/data\/$/, '')}manifest-summary.json`)} is the summary of export \\S+/01700000000000-0ther000, not of ${literal(got.exportArn)}`
        )
      )
    }, 60_000)

    it('more data files than the export had when it was confirmed (an extra empty one) is refused', async () => {
      // An empty file holds no item, so no count or digest notices it: only the file count does.
      const got = await restoreWith({ extraEmptyFile: 'extra.json.gz' })

      await expectRefused(
        got,
        new RegExp(
          `2 data file\\(s\\) under ${uri(got.dataPrefix)}, but the export had 1 when it was confirmed`
        )
      )
    }, 60_000)
  })
})

describe('the owed-restore lookup of a pre-deploy run with s3-bucket', () => {
  const lookups = (from: number) =>
    rec.calls.slice(from).filter(c => c.operation === 'DynamoDB.ListBackups' && c.target === TABLE).length

  it('made once before planning; after the work only for a table the run acted on', async () => {
    await orphan(12)
    // A dry run acts on nothing: the lookup before planning is the answer.
    let mark = rec.calls.length
    const dry = await runPhase(inputs({ dryRun: true }), { ...deps(clients), runId: '' })
    expect(dry.result.outcome).toBe('dry-run')
    expect(lookups(mark)).toBe(1)
    expect(dry.result.pendingRestores).toEqual([])

    // A run that re-creates the table looks again: its state changed. The executor asks too, for
    // the table it deletes (execute/safety.ts: before the first change and in the last check).
    mark = rec.calls.length
    const real = await runPhase(inputs(), { ...deps(clients), runId: '' })
    expect([real.result.outcome, real.result.stateNote]).toEqual(['resolved', undefined])
    expect(lookups(mark)).toBe(2 + 2)
    expect(real.result.pendingRestores).toEqual([])
  }, 60_000)

  it('a run stopped after the delete looks again, and finds the restore it now owes', async () => {
    await orphan(10)
    inject = denied('DynamoDB.ImportTable')
    const mark = rec.calls.length
    const stopped = await runPhase(inputs(), { ...deps(clients), runId: '' })
    expect(stopped.result.outcome).toBe('failed')
    expect(lookups(mark)).toBe(2 + 2) // and the executor's two checks before the delete
    expect(stopped.result.pendingRestores?.map(p => p.table)).toEqual([TABLE])
  }, 60_000)
})

describe('the server-side path records its delete like every path (deleting.json), and takes it back when the delete fails', () => {
  it.each([
    ['point-in-time recovery on (DynamoDB exports)', true],
    ['point-in-time recovery off (the streamed export)', false]
  ])(
    '%s: DeleteTable fails, the table is deleted later outside the action: nothing is owed',
    async (_how, pitr) => {
      await orphan(20, { pitr })
      const run = inputs()
      inject = denied('DynamoDB.DeleteTable')
      const first = await executePlan(await runCheck(run, clients), run, deps(clients))
      expect(first.result.outcome).toBe('failed')
      expect(await tableContent(clients, TABLE)).toHaveLength(20)
      const keys = await s3Keys()
      // A complete copy (its manifest), and no record of a delete: it was taken back.
      expect(keys.filter(k => k.endsWith('/manifest.json'))).toHaveLength(1)
      expect(keys.filter(k => k.endsWith('/deleting.json'))).toEqual([])
      expect(first.result.steps).toContainEqual(
        expect.objectContaining({ action: 'delete record removed', status: 'done' })
      )

      inject = null
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: TABLE }))
      await waitForTable(clients.dynamodb, TABLE, 'GONE', { ...systemClock, maxWaitMs: 30_000, pollMs: 50 })
      // Looked up with the account known (moto's), so the copy counts as this account's.
      const [state] = await findRestoreStates(oneRegion(clients), {
        stage: 'pr-7',
        account: '123456789012',
        s3Bucket: BACKUP_BUCKET,
        tables: [{ name: TABLE, region: 'us-east-1' }],
        localManifests: []
      })
      expect(state?.state).toMatchObject({
        kind: 'not-owed',
        why: expect.stringMatching(/deleting\.json: the run that took it stopped before deleting the table/)
      })
    },
    60_000
  )
})

describe('guards of the server-side path', () => {
  it('dry-run: lists ImportTable with the template schema and the IMPORT change set; nothing is changed', async () => {
    const before = await orphan(10)
    const run = inputs({ dryRun: true, awsBackup: true })
    const check = await runCheck(run, clients)
    const mark = rec.calls.length

    const { result } = await executePlan(check, run, deps(clients))

    expect(result.outcome).toBe('dry-run')
    // In the order a real run makes them: the copy, the on-demand backup, the record, the delete.
    const actions = result.steps.filter(s => s.table === TABLE).map(s => s.action)
    expect(actions.slice(0, actions.indexOf('import table'))).toEqual([
      'write fence',
      'export',
      'on-demand backup',
      'delete recorded',
      'delete'
    ])
    expect(
      rec.calls
        .slice(mark)
        .map(c => c.operation)
        .filter(op => !isReadOnlyOperation(op))
    ).toEqual([])
    const planned = result.steps.filter(s => s.table === TABLE).map(s => `${s.action}: ${s.detail}`)
    expect(planned.join('\n')).toMatch(
      /import table: ImportTable \{"S3BucketSource":\{"S3Bucket":"orphan-guard-test-backups","S3KeyPrefix":"copies\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/data\/"\}/
    )
    expect(planned.join('\n')).toMatch(
      /"KeySchema":\[\{"AttributeName":"pk","KeyType":"HASH"\},\{"AttributeName":"n","KeyType":"RANGE"\}\]/
    )
    expect(planned.join('\n')).toMatch(/CreateChangeSet: CreateChangeSet \{.*"ChangeSetType":"IMPORT"/)
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }, 60_000)

  it('the imported table must equal the copy (content digest): a copy changed after the delete is not adopted', async () => {
    await orphan(15)
    // Right before ImportTable, one item of the copy's data file is changed (same item count).
    inject = call => {
      if (call.operation !== 'DynamoDB.ImportTable') return undefined
      const prefix = (JSON.parse(call.body) as { S3BucketSource: { S3KeyPrefix: string } }).S3BucketSource
        .S3KeyPrefix
      return tamperFirstDataFile(prefix).then(() => undefined)
    }
    const run = inputs()
    const { result } = await executePlan(await runCheck(run, clients), run, deps(clients))

    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(/Verification of pr-7-orders failed: content digest/)
    expect(result.stateNote).toMatch(/holds other items than the copy; no IMPORT change set was created/)
    expect(rec.imports).toEqual([])
  }, 60_000)
})

/** Rewrites the first data file under `prefix` with one item's `flag` flipped (moto S3, directly). */
async function tamperFirstDataFile(prefix: string): Promise<void> {
  const direct = testClients(moto.endpoint)
  try {
    const [key] = await (async () => {
      const keys: string[] = []
      for await (const page of listObjects(direct.s3, { bucket: BACKUP_BUCKET.bucket, prefix }))
        keys.push(...page.objects.map(o => o.key))
      return keys
    })()
    const text = gunzipSync(await getObjectBytes(direct.s3, BACKUP_BUCKET.bucket, key as string)).toString(
      'utf8'
    )
    const changed = text.replace(/"BOOL":\s*true/, '"BOOL": false')
    if (changed === text) throw new Error('test: nothing to tamper with')
    await direct.s3.send(
      new PutObjectCommand({ Bucket: BACKUP_BUCKET.bucket, Key: key, Body: gzipSync(Buffer.from(changed)) })
    )
  } finally {
    destroyClients(direct)
  }
}

/** What writeExportManifests changes in what DynamoDB would write. */
interface ManifestChange {
  summary?: (summary: Record<string, unknown>) => Record<string, unknown>
  files?: (lines: ManifestFileLine[]) => ManifestFileLine[]
  /** An empty object put in the data folder too (and listed), as a partition without items. */
  extraEmptyFile?: string
}

/** One line of DynamoDB's manifest-files.json. */
interface ManifestFileLine {
  itemCount: number
  md5Checksum: string
  etag: string
  dataFileS3Key: string
}

/**
 * Writes next to an export's data files what real DynamoDB writes there and moto does not
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html):
 * `manifest-summary.json`, naming `manifest-files.json`, which holds one JSON line per data file
 * (its item count, base64 MD5, ETag and key), made from the data files moto wrote and then changed
 * as `change` says. Returns the lines written.
 */
async function writeExportManifests(
  dataPrefix: string,
  exportArn: string,
  change: ManifestChange = {}
): Promise<ManifestFileLine[]> {
  const direct = testClients(moto.endpoint)
  const bucket = BACKUP_BUCKET.bucket
  try {
    if (change.extraEmptyFile !== undefined)
      await direct.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${dataPrefix}${change.extraEmptyFile}`,
          Body: Buffer.alloc(0)
        })
      )
    const keys: string[] = []
    for await (const page of listObjects(direct.s3, { bucket, prefix: dataPrefix }))
      keys.push(...page.objects.map(o => o.key))
    const lines: ManifestFileLine[] = []
    let items = 0
    let bytes = 0
    for (const key of keys.sort()) {
      const body = await getObjectBytes(direct.s3, bucket, key)
      const head = await headObject(direct.s3, bucket, key)
      const itemCount =
        body.length === 0
          ? 0
          : gunzipSync(body)
              .toString('utf8')
              .split('\n')
              .filter(l => l.trim() !== '').length
      items += itemCount
      bytes += body.length
      lines.push({
        itemCount,
        md5Checksum: createHash('md5').update(body).digest('base64'),
        etag: (head?.etag ?? '').replace(/"/g, ''),
        dataFileS3Key: key
      })
    }
    const exportFolder = dataPrefix.replace(/data\/$/, '')
    const filesKey = `${exportFolder}manifest-files.json`
    const summary = {
      version: '2020-06-30',
      exportArn,
      startTime: '2025-03-04T05:06:08.000Z',
      endTime: '2025-03-04T05:11:08.000Z',
      tableArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`,
      tableId: '00000000-0000-4000-8000-000000000000',
      exportTime: '2025-03-04T05:06:08.000Z',
      s3Bucket: bucket,
      s3Prefix: exportFolder.replace(/\/?AWSDynamoDB\/[^/]+\/$/, ''),
      s3SseAlgorithm: 'AES256',
      s3SseKmsKeyId: null,
      manifestFilesS3Key: filesKey,
      billedSizeBytes: bytes,
      itemCount: items,
      outputFormat: 'DYNAMODB_JSON'
    }
    const written = change.files ? change.files(lines) : lines
    await direct.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: filesKey,
        Body: written.map(l => `${JSON.stringify(l)}\n`).join('')
      })
    )
    await direct.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${exportFolder}manifest-summary.json`,
        Body: JSON.stringify(change.summary ? change.summary(summary) : summary)
      })
    )
    return written
  } finally {
    destroyClients(direct)
  }
}
