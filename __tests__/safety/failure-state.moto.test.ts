/**
 * Safety rule: a failure at any step leaves the table, or the backup, intact, and the summary says
 * what state things are in and how to go on. Failures are injected on the wire (a proxy in front
 * of moto) at each step of backup-restore: CreateBackup, the export, DeleteTable (an error, and
 * deletion protection switched on behind the plan's back), and the restore after the deploy.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { UpdateTableCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { restoreBackups } from '../../src/execute/restore-backups.js'
import { systemClock, type Check } from '../../src/types.js'
import { escapeProse, renderReport } from '../../src/report/markdown.js'
import type { Inputs, RunResult } from '../../src/types.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  makeUnmanagedTable,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'
import { startTamperProxy, type FailRule, type TamperProxy } from '../../test-support/scan-tamper-proxy.js'
import {
  BACKUP_BUCKET,
  createBackupBucket,
  decisionOf,
  deps,
  makeInputs,
  quietLogger,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const RULE =
  'a failure at any step leaves the table, or the backup, intact, and the summary says what state things are in and how to go on'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
const TEMPLATE = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })
const ITEMS = sampleItems(60)

let moto: MotoServer
let clients: AwsClients
let ws: Workspace
const opened: AwsClients[] = []
const proxies: TamperProxy[] = []

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  for (const c of [clients, ...opened]) if (c) destroyClients(c)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  await createBackupBucket(clients)
  ws = workspace(TEMPLATE)
})
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop()
  ws.remove()
})

/** Clients whose requests meet the given faults on the way to moto. */
async function failing(...fail: FailRule[]): Promise<{ clients: AwsClients; proxy: TamperProxy }> {
  const proxy = await startTamperProxy({ target: moto.endpoint, fail })
  proxies.push(proxy)
  const c = testClients(proxy.endpoint)
  opened.push(c)
  return { clients: c, proxy }
}

const serverError = (operation: string, extra: Partial<FailRule> = {}): FailRule => ({
  operation,
  status: 500,
  type: 'InternalServerError',
  ...extra
})

/** An orphan with data that auto backs up, deletes and restores (blocking key difference). */
async function orphanCheck(
  over: Partial<Omit<Inputs, 'stackName'>> = {}
): Promise<{ inputs: Inputs; check: Check; before: string[] | null }> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
  const before = await tableContent(clients, TABLE)
  const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', s3Bucket: BACKUP_BUCKET, ...over })
  const check = await runCheck(inputs, clients)
  expect(decisionOf(check, TABLE)).toBe('backup-restore')
  return { inputs, check, before }
}

/** The state note appears, as it is, in the rendered summary. */
function expectInSummary(result: RunResult, inputs: Inputs): void {
  const markdown = renderReport({
    stage: inputs.stage,
    strategy: inputs.strategy,
    phase: inputs.phase,
    dryRun: inputs.dryRun,
    region: inputs.awsRegion,
    result
  })
  expect(result.stateNote).toBeTruthy()
  expect(markdown).toContain('Where things stand and how to go on')
  // Shown as written (outside text in it neutralised, see report/markdown.ts escapeProse).
  expect(markdown).toContain(`> ${escapeProse(result.stateNote ?? '')}`)
}

/** sha256 of every file under a backup folder, by relative path. */
function fileDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex')
    }
  }
  walk(dir)
  return out
}

describe(RULE, () => {
  it('CreateBackup fails: the table is intact, outcome failed, the note says nothing was deleted and to run again', async () => {
    const { inputs, check, before } = await orphanCheck({ awsBackup: true })
    const { clients: broken, proxy } = await failing(serverError('CreateBackup'))

    const { result } = await executePlan(check, inputs, deps(broken))

    expect(proxy.failures[0]).toBeGreaterThan(0)
    expect(result.outcome).toBe('failed')
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(proxy.operations).not.toContain('DeleteTable')
    expect(result.stateNote).toMatch(/nothing (destructive )?was (deleted|done|changed)/i)
    expect(result.stateNote).toMatch(/run (it )?again/i)
    expectInSummary(result, inputs)
  })

  it('the export fails (Scan answers 500 beyond the retry budget): the table is intact, no manifest, the note says so and to run again', async () => {
    const { inputs, check, before } = await orphanCheck()
    const { clients: broken, proxy } = await failing(serverError('Scan'))
    const run = deps(broken)

    const { result } = await executePlan(check, inputs, run)

    expect(result.outcome).toBe('failed')
    expect(proxy.operations).not.toContain('DeleteTable')
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(result.backupManifests).toEqual([])
    // The engine's retries waited through the injected sleep, not the real clock.
    expect(run.slept.length).toBeGreaterThan(0)
    expect(result.stateNote).toMatch(/Export of pr-7-orders failed/)
    expect(result.stateNote).toMatch(/untouched \(nothing was deleted\)/)
    expect(result.stateNote).toMatch(/run again/i)
    expectInSummary(result, inputs)
  })

  it('DeleteTable fails: the table is intact and so is the verified export; the note names the backup and how to go on', async () => {
    const { inputs, check, before } = await orphanCheck()
    const { clients: broken, proxy } = await failing(serverError('DeleteTable'))

    const { result } = await executePlan(check, inputs, deps(broken))

    expect(proxy.failures[0]).toBeGreaterThan(0)
    expect(result.outcome).toBe('failed')
    expect(await tableContent(clients, TABLE)).toEqual(before)
    const manifests = readdirSync(join(ws.backupDir, TABLE))
    expect(manifests).toHaveLength(1)
    const manifestPath = join(ws.backupDir, TABLE, manifests[0] as string, 'manifest.json')
    expect(existsSync(manifestPath)).toBe(true)
    expect(result.stateNote).toMatch(
      new RegExp(
        `Its data is safe in S3 copy s3://${BACKUP_BUCKET.bucket}/copies/pr-7/${TABLE}/\\d{8}T\\d{6}Z/manifest\\.json and export `
      )
    )
    expect(result.stateNote).toContain(`export ${manifestPath}`)
    expect(result.stateNote).toMatch(/run again/)
    expect(result.stateNote).toMatch(/Done before the failure: .*export/)
    expectInSummary(result, inputs)
  })

  it('deletion protection switched on after the check: DeleteTable is refused, the table and the export are intact, the note says how to go on', async () => {
    const { inputs, check, before } = await orphanCheck()
    await clients.dynamodb.send(new UpdateTableCommand({ TableName: TABLE, DeletionProtectionEnabled: true }))

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('failed')
    expect(await tableContent(clients, TABLE)).toEqual(before)
    expect(result.stateNote).toMatch(
      /Its data is safe in S3 copy s3:\/\/.*manifest\.json and export .*manifest\.json/
    )
    expect(result.stateNote).toMatch(/run again/)
    expectInSummary(result, inputs)
  })

  it('the restore fails mid-way: the backup files are intact, outcome failed, the note says to run phase: restore again, which then completes', async () => {
    const { inputs, check, before } = await orphanCheck()
    const pre = await executePlan(check, inputs, deps(clients))
    expect(pre.result.outcome).toBe('resolved')
    const backupRoot = join(ws.backupDir, TABLE)
    const files = fileDigests(backupRoot)
    // The deploy creates the table from the template.
    await createStackAndWait(clients, STACK, TEMPLATE)

    // Two BatchWriteItem requests get through, then every further one is refused.
    const { clients: broken, proxy } = await failing({
      operation: 'BatchWriteItem',
      status: 400,
      type: 'ValidationException',
      message: 'injected failure',
      after: 2
    })
    const restoreInputs: Inputs = { ...inputs, phase: 'restore' }
    const failed = await restoreBackups(oneRegion(broken), {
      backupDir: ws.backupDir,
      stage: inputs.stage,
      s3Bucket: null,
      tables: [{ name: TABLE, region: 'us-east-1' }],
      localManifests: pre.result.backupManifests,
      dryRun: false,
      logger: quietLogger,
      clock: systemClock
    })

    expect(proxy.failures[0]).toBeGreaterThan(0)
    expect(failed.outcome).toBe('failed')
    const partial = await tableContent(clients, TABLE)
    expect(partial?.length).toBeLessThan(ITEMS.length)
    expect(failed.stateNote).toMatch(
      /The backups are untouched: running phase restore again resumes each unfinished restore \(on this runner from its checkpoint; on another runner, from the first item into the same table/
    )
    expectInSummary(failed, restoreInputs)
    // The backup files are untouched (a checkpoint may have been added next to them).
    const after = fileDigests(backupRoot)
    for (const [path, digest] of Object.entries(files)) expect(after[path]).toBe(digest)

    // Going on as the note says: the restore completes and the table equals the original.
    const again = await restoreBackups(oneRegion(clients), {
      backupDir: ws.backupDir,
      stage: inputs.stage,
      s3Bucket: null,
      tables: [{ name: TABLE, region: 'us-east-1' }],
      localManifests: pre.result.backupManifests,
      dryRun: false,
      logger: quietLogger,
      clock: systemClock
    })
    expect(again.outcome).toBe('restored')
    expect(await tableContent(clients, TABLE)).toEqual(before)
  })
})
