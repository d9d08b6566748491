/**
 * The bundle, killed mid-run: backup-restore of two tables with `s3-bucket` (and no on-demand
 * backup), against moto behind a recording proxy.
 * - SIGKILL right after the first table's delete: the deleted table is restorable from S3 alone
 *   (its copy was complete and read back before its DeleteTable), the other one is untouched, and
 *   a second run finishes the job.
 * - SIGTERM (a cancelled job) while the write fence is up: the fence is taken down before the
 *   process exits, and the table is untouched.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { getResourcePolicy } from '../../src/aws/resource-policy.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { tableContent } from '../../test-support/execution.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, mergeTemplates, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import { startRecordingProxy, type RecordingProxy } from '../../test-support/recording-proxy.js'
import { runBundle, type BundleRun } from '../../test-support/run-bundle.js'
import { readS3Copy, s3Manifests } from '../../test-support/s3-copies.js'

const STAGE = 'pr-7'
const STACK = 'pr-7-db'
const BUCKET = 'preview-backups'
const TABLES = ['pr-7-orders', 'pr-7-users']
const template = mergeTemplates(
  ...TABLES.map((tableName, i) =>
    tableTemplate({ tableName, logicalId: `Table${i}`, keys: { partition: { name: 'pk', type: 'S' } } })
  )
)

let moto: MotoServer
let proxy: RecordingProxy
let clients: AwsClients
let workspace: string
let before: Record<string, string[] | null>

beforeAll(async () => {
  moto = await startMoto()
  proxy = await startRecordingProxy(moto.endpoint)
  clients = testClients(moto.endpoint)
}, 60_000)

afterAll(async () => {
  destroyClients(clients)
  await proxy?.stop()
  await moto?.stop()
})

beforeEach(async () => {
  await moto.reset()
  proxy.calls.length = 0
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  before = {}
  for (const [i, table] of TABLES.entries()) {
    await makeUnmanagedTable(clients.dynamodb, { tableName: table, items: sampleItems(40 + i * 7) })
    before[table] = await tableContent(clients, table)
  }
  if (workspace) rmSync(workspace, { recursive: true, force: true })
  workspace = mkdtempSync(join(tmpdir(), 'orphan-guard-kill-'))
  mkdirSync(join(workspace, 'infra'))
  writeFileSync(join(workspace, 'infra', 'db.template.json'), JSON.stringify(template, null, 2))
})

function run(signalWhen?: { pattern: RegExp; signal: NodeJS.Signals }): Promise<BundleRun> {
  return runBundle({
    inputs: {
      stage: STAGE,
      strategy: 'backup-restore',
      template: 'infra/db.template.json',
      'stack-name': STACK,
      's3-bucket': `${BUCKET}/orphan-guard`,
      'aws-backup': 'false',
      comment: 'false'
    },
    awsEndpoint: proxy.endpoint,
    workspace,
    signalWhen,
    timeoutMs: 120_000
  })
}

describe('a run killed between two tables', () => {
  it('SIGKILL after the first delete: that table is restorable from S3 alone, the other is untouched; a second run finishes', async () => {
    const killed = await run({ pattern: /pr-7-\w+: delete done/, signal: 'SIGKILL' })
    expect(killed.signalled).toBe('SIGKILL')
    const first = /(pr-7-\w+): delete done/.exec(killed.stdout)?.[1] as string
    const second = TABLES.find(t => t !== first) as string

    expect(await tableContent(clients, first)).toBeNull()
    expect(await tableContent(clients, second)).toEqual(before[second])
    // Restorable from AWS alone: the runner's disk is gone with the killed run.
    rmSync(join(workspace, 'backups'), { recursive: true, force: true })
    const manifests = await s3Manifests(clients.s3, BUCKET, `orphan-guard/${STAGE}/`)
    const firstCopy = manifests.find(k => k.startsWith(`orphan-guard/${STAGE}/${first}/`)) as string
    expect(firstCopy).toMatch(new RegExp(`^orphan-guard/pr-7/${first}/\\d{8}T\\d{6}Z/manifest\\.json$`))
    const copy = await readS3Copy(clients.s3, BUCKET, firstCopy)
    expect(copy.items).toEqual(before[first])
    expect(copy.manifest.stage).toBe(STAGE)

    // On the wire: the manifest was stored and read back before DeleteTable was sent.
    const calls = proxy.calls
    const del = calls.findIndex(c => c.operation === 'DynamoDB.DeleteTable' && c.target === first)
    const stored = calls.findIndex(
      c => c.operation === 'S3.PutObject' && c.target === `${BUCKET}/${firstCopy}`
    )
    const readBack = calls.findIndex(
      c => c.operation === 'S3.GetObject' && c.target === `${BUCKET}/${firstCopy}`
    )
    expect(stored).toBeGreaterThanOrEqual(0)
    expect(readBack).toBeGreaterThan(stored)
    expect(del).toBeGreaterThan(readBack)
    expect(calls[readBack]?.endedAt).toBeGreaterThan(0)
    expect(calls[readBack]?.endedAt).toBeLessThanOrEqual(Date.now())

    // The same workflow again: the first table is gone (nothing to do for it), the second is done now.
    const again = await run()
    expect([again.code, again.errors]).toEqual([0, []])
    expect(again.outputs.outcome).toBe('resolved')
    expect(await tableContent(clients, second)).toBeNull()
    const all = await s3Manifests(clients.s3, BUCKET, `orphan-guard/${STAGE}/`)
    const secondCopy = all.find(k => k.startsWith(`orphan-guard/${STAGE}/${second}/`)) as string
    expect((await readS3Copy(clients.s3, BUCKET, secondCopy)).items).toEqual(before[second])
  }, 180_000)

  it('SIGTERM while the write fence is up: the fence comes down before the process exits; the table is untouched', async () => {
    const stopped = await run({ pattern: /pr-7-\w+: write fence done/, signal: 'SIGTERM' })
    expect(stopped.signalled).toBe('SIGTERM')
    expect(stopped.code).not.toBe(0)
    const fenced = /(pr-7-\w+): write fence done/.exec(stopped.stdout)?.[1] as string
    expect(stopped.stdout).toMatch(new RegExp(`Stopped by SIGTERM; undoing: write fence on ${fenced}`))
    expect(stopped.stdout).toMatch(new RegExp(`Undone: write fence on ${fenced}`))
    for (const table of TABLES) {
      expect(await tableContent(clients, table)).toEqual(before[table])
      expect(
        await getResourcePolicy(clients.dynamodb, `arn:aws:dynamodb:us-east-1:123456789012:table/${table}`)
      ).toBeNull()
    }
    expect(proxy.operations()).not.toContain('DynamoDB.DeleteTable')
  }, 180_000)
})
