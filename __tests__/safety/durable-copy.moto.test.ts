/**
 * Safety rule: no table that holds data is deleted (nor its deletion protection turned off) until a
 * copy outside the runner is verified: the S3 copy read back and checked against the manifest, or
 * an on-demand backup that is AVAILABLE; each table before the next table's delete. moto serves
 * DynamoDB, S3, CloudFormation and STS on one port; a recording proxy shows the order on the wire.
 *
 * Seen to fail without its guard: with the throw of recordDeleteIntent (execute/table-ops.ts) on a
 * deleting.json that could not be written taken out, the run resolved and deleted the table.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, mergeTemplates, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import {
  isReadOnlyOperation,
  startRecordingProxy,
  type RecordingOptions,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
import { readS3Copy, s3Manifests } from '../../test-support/s3-copies.js'
import {
  BACKUP_BUCKET,
  createBackupBucket,
  decisionOf,
  deps,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const RULE = 'no table that holds data is deleted before a copy outside the runner is verified'
const STACK = 'pr-7-db'
const ORDERS = 'pr-7-orders'
const USERS = 'pr-7-users'
/** Partition key only: the live tables' sort key is a blocking key difference → backup-restore. */
const TEMPLATE = mergeTemplates(
  tableTemplate({ tableName: ORDERS, logicalId: 'Orders', keys: { partition: { name: 'pk', type: 'S' } } }),
  tableTemplate({ tableName: USERS, logicalId: 'Users', keys: { partition: { name: 'pk', type: 'S' } } })
)

let moto: MotoServer
let direct: AwsClients
let ws: Workspace
const opened: AwsClients[] = []
const proxies: RecordingProxy[] = []

beforeAll(async () => {
  moto = await startMoto()
  direct = testClients(moto.endpoint)
})
afterAll(async () => {
  for (const c of [direct, ...opened]) destroyClients(c)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  await createBackupBucket(direct)
  ws = workspace(TEMPLATE)
  await makeUnmanagedTable(direct.dynamodb, { tableName: ORDERS, items: sampleItems(40) })
  await makeUnmanagedTable(direct.dynamodb, { tableName: USERS, items: sampleItems(25) })
})
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop()
  ws.remove()
})

async function recorded(opts?: RecordingOptions): Promise<{ clients: AwsClients; rec: RecordingProxy }> {
  const rec = await startRecordingProxy(moto.endpoint, opts)
  proxies.push(rec)
  const clients = testClients(rec.endpoint)
  opened.push(clients)
  return { clients, rec }
}

const mutatingOps = (rec: RecordingProxy, from: number): string[] =>
  rec.calls
    .slice(from)
    .map(c => c.operation)
    .filter(op => !isReadOnlyOperation(op))

describe(RULE, () => {
  it('aws-backup false and no s3-bucket: the plan is blocked naming s3-bucket and aws-backup; nothing is changed', async () => {
    const { clients, rec } = await recorded()
    const before = [await tableContent(clients, ORDERS), await tableContent(clients, USERS)]
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: false, s3Bucket: null })
    const check = await runCheck(inputs, clients)
    const mark = rec.calls.length

    const { result } = await executePlan(check, inputs, deps(clients))

    for (const table of [ORDERS, USERS]) {
      expect(decisionOf(check, table)).toBe('blocked')
      const reasons = check.plan.entries.find(e => e.table === table)?.reasons.join(' ') ?? ''
      expect(reasons).toMatch(/no copy outside the runner \(aws-backup is false and s3-bucket is not set\)/)
      expect(reasons).toMatch(/Set s3-bucket .* or aws-backup: true/)
    }
    expect(result.outcome).toBe('blocked')
    expect(mutatingOps(rec, mark)).toEqual([])
    expect([await tableContent(clients, ORDERS), await tableContent(clients, USERS)]).toEqual(before)
  })

  it("the executor's own last check: a plan made with aws-backup, run without any copy outside the runner, deletes nothing", async () => {
    const { clients, rec } = await recorded()
    const before = await tableContent(clients, ORDERS)
    const planned = makeInputs(ws, {
      stackName: STACK,
      strategy: 'backup-restore',
      awsBackup: true,
      tables: [ORDERS]
    })
    const check = await runCheck(planned, clients)
    expect(decisionOf(check, ORDERS)).toBe('backup-restore')
    const mark = rec.calls.length

    const { result } = await executePlan(check, { ...planned, awsBackup: false }, deps(clients))

    expect(result.outcome).toBe('blocked')
    expect(result.stateNote).toMatch(
      /Refusing to delete pr-7-orders: it holds data and no copy outside the runner is verified\. Set s3-bucket \(a verified copy in S3\) or aws-backup: true \(an on-demand backup\), then run again\./
    )
    const ops = rec.calls.slice(mark).map(c => c.operation)
    expect(ops).not.toContain('DynamoDB.DeleteTable')
    expect(ops).not.toContain('DynamoDB.UpdateTable')
    // The write fence that went up for the final scan came down again.
    expect(ops.at(-1)).toBe('DynamoDB.DeleteResourcePolicy')
    expect(await tableContent(clients, ORDERS)).toEqual(before)
  })

  it('s3-bucket alone: per table, the S3 copy is complete and read back before its DeleteTable, and the next table is touched only after that', async () => {
    const { clients, rec } = await recorded()
    const before: Record<string, string[] | null> = {
      [ORDERS]: await tableContent(clients, ORDERS),
      [USERS]: await tableContent(clients, USERS)
    }
    const inputs = makeInputs(ws, {
      stackName: STACK,
      strategy: 'auto',
      awsBackup: false,
      s3Bucket: BACKUP_BUCKET
    })
    const check = await runCheck(inputs, clients)
    const mark = rec.calls.length

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('resolved')
    const calls = rec.calls.slice(mark)
    const manifests = await s3Manifests(direct.s3, BACKUP_BUCKET.bucket, 'copies/pr-7/')
    expect(manifests).toHaveLength(2)
    let previousDelete = -1
    for (const table of [ORDERS, USERS]) {
      const folder = `${BACKUP_BUCKET.bucket}/copies/pr-7/${table}/`
      const del = calls.findIndex(c => c.operation === 'DynamoDB.DeleteTable' && c.target === table)
      expect(del).toBeGreaterThan(previousDelete)
      const puts = calls.filter(
        c =>
          ['S3.PutObject', 'S3.CompleteMultipartUpload'].includes(c.operation) && c.target?.startsWith(folder)
      )
      // The record of the delete comes last of all, after the copy is read back, right before the delete.
      expect(puts.at(-1)?.target).toMatch(/\/deleting\.json$/)
      const uploads = puts.slice(0, -1)
      // Data files, then the manifest last; all of them before the delete, none after.
      expect(uploads.length).toBeGreaterThanOrEqual(2)
      expect(uploads.at(-1)?.target).toMatch(/\/manifest\.json$/)
      const readBack = calls.findIndex(
        c => c.operation === 'S3.GetObject' && c.target === uploads.at(-1)?.target && c.status === 200
      )
      expect(readBack).toBeGreaterThan(calls.indexOf(uploads.at(-1)!))
      expect(readBack).toBeLessThan(del)
      for (const u of uploads) expect(calls.indexOf(u)).toBeLessThan(del)
      expect(calls.indexOf(puts.at(-1)!)).toBeGreaterThan(readBack)
      expect(calls.indexOf(puts.at(-1)!)).toBeLessThan(del)
      // The first call of this table's copy comes after the previous table's delete.
      expect(calls.findIndex(c => c.target?.startsWith(folder))).toBeGreaterThan(previousDelete)
      previousDelete = del
      // Restorable from S3 alone: the copy holds exactly the table's items.
      const key = manifests.find(k => k.includes(`/${table}/`)) as string
      const copy = await readS3Copy(direct.s3, BACKUP_BUCKET.bucket, key)
      expect(copy.items).toEqual(before[table])
      expect(copy.manifest).toMatchObject({
        stage: 'pr-7',
        table: { name: table, region: 'us-east-1', accountId: '123456789012' }
      })
      expect(copy.manifest.table.arn).toBe(`arn:aws:dynamodb:us-east-1:123456789012:table/${table}`)
      expect(copy.manifest.table.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    }
    expect(await tableContent(clients, ORDERS)).toBeNull()
    expect(await tableContent(clients, USERS)).toBeNull()
  })

  it('an S3 copy that does not read back as written (an object changed under it): no delete, the table is intact', async () => {
    let tampered = ''
    const { clients, rec } = await recorded({
      onRequest: async call => {
        // The first data object checked is overwritten with other bytes just before S3 is asked about it.
        if (call.operation === 'S3.HeadObject' && tampered === '' && call.target?.includes('/data/')) {
          tampered = call.target
          const key = call.target.slice(BACKUP_BUCKET.bucket.length + 1)
          await direct.s3.send(
            new PutObjectCommand({
              Bucket: BACKUP_BUCKET.bucket,
              Key: key,
              Body: Buffer.from('not the export')
            })
          )
        }
      }
    })
    const before = await tableContent(clients, ORDERS)
    const inputs = makeInputs(ws, {
      stackName: STACK,
      strategy: 'backup-restore',
      awsBackup: false,
      s3Bucket: BACKUP_BUCKET,
      tables: [ORDERS]
    })
    const check = await runCheck(inputs, clients)

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(tampered).not.toBe('')
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(
      /The copy of the export of pr-7-orders to s3:\/\/orphan-guard-test-backups\/copies\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/ failed: s3:\/\/.*\/data\/.* holds 14 bytes/
    )
    expect(result.stateNote).toMatch(/without a verified copy outside the runner the table is not deleted/)
    expect(rec.operations()).not.toContain('DynamoDB.DeleteTable')
    expect(rec.operations()).not.toContain('DynamoDB.PutResourcePolicy')
    expect(await tableContent(clients, ORDERS)).toEqual(before)
    expect(result.backupManifests).toEqual([])
  })

  it('the S3 copy gone by the last check before the delete (e.g. removed by someone): refused, the table is intact', async () => {
    const { clients, rec } = await recorded({
      onRequest: async call => {
        // Only the last check asks for the manifest's head; the copy itself was verified by then.
        if (call.operation === 'S3.HeadObject' && call.target?.endsWith('/manifest.json')) {
          const key = call.target.slice(BACKUP_BUCKET.bucket.length + 1)
          await direct.s3.send(new DeleteObjectCommand({ Bucket: BACKUP_BUCKET.bucket, Key: key }))
        }
      }
    })
    const before = await tableContent(clients, ORDERS)
    const inputs = makeInputs(ws, {
      stackName: STACK,
      strategy: 'backup-restore',
      awsBackup: false,
      s3Bucket: BACKUP_BUCKET,
      tables: [ORDERS]
    })
    const check = await runCheck(inputs, clients)

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('blocked')
    expect(result.stateNote).toMatch(
      /Refusing to delete pr-7-orders: it holds data and no copy outside the runner is verified \(s3:\/\/.*\/manifest\.json does not exist\)/
    )
    expect(rec.operations()).not.toContain('DynamoDB.DeleteTable')
    expect(await tableContent(clients, ORDERS)).toEqual(before)
  })

  it('the record of the delete (deleting.json) cannot be written to the S3 folder: no delete, the table is intact, the run failed naming the record', async () => {
    const { clients, rec } = await recorded({
      onRequest: call =>
        call.operation === 'S3.PutObject' && call.target?.endsWith('/deleting.json')
          ? { status: 403, type: 'AccessDenied', message: 'not authorized to perform: s3:PutObject' }
          : undefined
    })
    const before = await tableContent(clients, ORDERS)
    const inputs = makeInputs(ws, {
      stackName: STACK,
      strategy: 'backup-restore',
      awsBackup: false,
      s3Bucket: BACKUP_BUCKET,
      tables: [ORDERS]
    })
    const check = await runCheck(inputs, clients)

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(rec.calls.some(c => c.operation === 'S3.PutObject' && c.target?.endsWith('/deleting.json'))).toBe(
      true
    )
    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(
      /The record of the delete of pr-7-orders \(s3:\/\/orphan-guard-test-backups\/copies\/pr-7\/pr-7-orders\/\d{8}T\d{6}Z\/deleting\.json\) could not be written/
    )
    expect(result.stateNote).toMatch(/The table pr-7-orders is untouched \(nothing was deleted\)/)
    expect(rec.operations()).not.toContain('DynamoDB.DeleteTable')
    expect(await tableContent(clients, ORDERS)).toEqual(before)
  })

  it('an on-demand backup alone (aws-backup, no s3-bucket) is a copy outside the runner: AVAILABLE before the delete', async () => {
    const { clients, rec } = await recorded()
    const inputs = makeInputs(ws, {
      stackName: STACK,
      strategy: 'backup-restore',
      awsBackup: true,
      s3Bucket: null,
      tables: [ORDERS]
    })
    const check = await runCheck(inputs, clients)

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('resolved')
    const ops = rec.operations()
    const del = ops.indexOf('DynamoDB.DeleteTable')
    // Described again (AVAILABLE) by the last check, after the export and before the delete.
    expect(ops.lastIndexOf('DynamoDB.DescribeBackup')).toBeGreaterThan(ops.lastIndexOf('DynamoDB.Scan'))
    expect(ops.lastIndexOf('DynamoDB.DescribeBackup')).toBeLessThan(del)
    expect(result.backupArns).toHaveLength(1)
  })
})
