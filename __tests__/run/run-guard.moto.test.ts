/**
 * The run both entries make (run/run-guard.ts), on moto with the run's real clients: the stages of
 * the log as groups, the progress of every copy (export, restore and their verification scans)
 * as structured updates, the debug line per AWS call when asked for, and a stop asked for between
 * tables that leaves the next table untouched.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { renderReport } from '../../src/report/markdown.js'
import { runGuard, type GuardDeps } from '../../src/run/run-guard.js'
import { createRunClientPool } from '../../src/run/clients.js'
import { RunStop } from '../../src/run/stop.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, mergeTemplates, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import { dropTable, takeBackupSet } from '../../test-support/backup-sets.js'
import { startRecordingProxy } from '../../test-support/recording-proxy.js'
import { buildOutputs } from '../../src/report/outputs.js'
import {
  fakeTime,
  makeInputs,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import type { Inputs, Logger, ProgressUpdate } from '../../src/types.js'
import type { AwsClients } from '../../src/aws/clients.js'

const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
/** Partition key only: the live table's sort key is a blocking difference → backup-restore. */
const TEMPLATE = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })
const ITEMS = sampleItems(40)

let moto: MotoServer
let ws: Workspace
let seed: AwsClients

interface Recorded {
  logger: Logger
  groups: string[]
  /** Every line, with the group it was logged in. */
  lines: Array<[group: string | null, line: string]>
  debug: string[]
  progress: ProgressUpdate[]
}

function recorder(): Recorded {
  const rec: Recorded = {
    groups: [],
    lines: [],
    debug: [],
    progress: [],
    logger: undefined as unknown as Logger
  }
  let current: string | null = null
  rec.logger = {
    info: line => rec.lines.push([current, line]),
    warning: line => rec.lines.push([current, line]),
    debug: line => rec.debug.push(line),
    group: async (name, fn) => {
      expect(current).toBeNull() // groups never nest (GitHub cannot show nested groups)
      rec.groups.push(name)
      current = name
      try {
        return await fn()
      } finally {
        current = null
      }
    },
    progress: { intervalMs: 0, update: p => rec.progress.push(p) }
  }
  return rec
}

function deps(rec: Recorded, extra: Partial<GuardDeps> = {}): GuardDeps {
  return {
    logger: rec.logger,
    clock: fakeTime(),
    createClients: opts => createRunClientPool({ ...opts, endpoint: moto.endpoint }),
    ...extra
  }
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing'
  moto = await startMoto()
  seed = testClients(moto.endpoint)
})
afterAll(async () => {
  destroyClients(seed)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  ws = workspace(TEMPLATE)
  await makeUnmanagedTable(seed.dynamodb, { tableName: TABLE, items: ITEMS })
})
afterEach(() => ws.remove())

function inputs(over: Partial<Inputs> = {}): Inputs {
  // aws-backup: a copy outside the runner, without which no table with data is deleted.
  return makeInputs(ws, { strategy: 'auto', awsBackup: true, ...over, stackName: STACK })
}

describe('a backup-restore run, then its restore', () => {
  it('logs each stage and each table in a group of its own, and reports every copy as progress', async () => {
    const pre = recorder()
    const run = await runGuard(inputs(), deps(pre))
    expect([run.result.outcome, run.failure]).toEqual(['resolved', null])
    expect(pre.groups).toEqual(['Discover', 'Inspect', 'Plan', `Back up and delete ${TABLE}`])
    expect(pre.lines).toContainEqual([
      'Plan',
      expect.stringMatching(/^pr-7-orders \(orphaned, .*\) → backup-restore/)
    ])
    expect(pre.lines).toContainEqual([
      `Back up and delete ${TABLE}`,
      expect.stringContaining(`${TABLE}: delete done`)
    ])
    const ended = pre.progress.filter(p => p.state !== 'running')
    expect(ended.map(p => [p.task, p.label, p.done, p.state])).toEqual([
      ['export', `Export ${TABLE}`, 40, 'done'],
      ['verify', `Verify the export of ${TABLE}`, 40, 'done']
    ])
    expect(pre.debug.filter(l => l.startsWith('AWS '))).toEqual([])

    // The deploy creates the table the template describes; then the restore phase.
    await makeUnmanagedTable(seed.dynamodb, {
      tableName: TABLE,
      keys: { partition: { name: 'pk', type: 'S' } }
    })
    const post = recorder()
    const restored = await runGuard(inputs({ phase: 'restore' }), deps(post))
    expect([restored.result.outcome, restored.result.restoredItems]).toEqual(['restored', 40])
    expect(post.groups).toEqual([`Restore ${TABLE}`])
    expect(
      post.progress.filter(p => p.state !== 'running').map(p => [p.task, p.done, p.total, p.state])
    ).toEqual([
      ['restore', 40, 40, 'done'],
      ['verify', 40, 40, 'done']
    ])
    // The pre-deploy report was kept (its data) for the restore's report.
    expect(restored.report.earlierReport?.phase).toBe('pre-deploy')
    expect(renderReport(restored.report)).toContain('Before the deploy (pre-deploy step)')
    expect(restored.report.earlierReport?.result.plan?.entries.map(e => e.table)).toEqual([TABLE])
    // The restore phase read the credentials' account: the PR comment masks it (moto's account).
    expect(restored.report.accountIds).toContain('123456789012')
  })

  it('with debugAwsCalls, one debug line per AWS call: operation, table, duration', async () => {
    const rec = recorder()
    await runGuard(inputs({ strategy: 'report' }), deps(rec, { debugAwsCalls: true }))
    const calls = rec.debug.filter(l => l.startsWith('AWS '))
    expect(calls).toContainEqual(expect.stringMatching(/^AWS STS\.GetCallerIdentity: \d+ ms$/))
    expect(calls).toContainEqual(
      expect.stringMatching(/^AWS DynamoDB\.DescribeTable table=pr-7-orders: \d+ ms$/)
    )
    expect(calls).toContainEqual(expect.stringMatching(/^AWS CloudFormation\.DescribeStacks stack=pr-7-db: /))
    expect(calls.join('\n')).not.toContain('item-')
  })
})

describe('a stop asked for (Ctrl-C, a cancelled job)', () => {
  it('before a table is touched: nothing is done to it, the run fails and says where things are', async () => {
    const rec = recorder()
    const stop = new RunStop()
    await stop.request('a test', rec.logger)
    const run = await runGuard(inputs(), deps(rec, { stop }))
    expect(run.result.outcome).toBe('failed')
    expect(run.failure).toMatch(/Interrupted before table pr-7-orders: nothing was done to it/)
    expect(rec.groups).toEqual(['Discover', 'Inspect', 'Plan'])
    expect(await tableContent(seed, TABLE)).toHaveLength(40)
  })
})

describe('a stop asked for while a table is being backed up', () => {
  it('after its export is verified: the table is not deleted, and the run says so', async () => {
    const stop = new RunStop()
    const rec = recorder()
    const sink = rec.logger.progress!
    rec.logger.progress = {
      intervalMs: 0,
      update: p => {
        sink.update(p)
        if (p.task === 'verify' && p.state === 'done') void stop.request('a test', rec.logger)
      }
    }
    const run = await runGuard(inputs(), deps(rec, { stop }))
    expect(run.result.outcome).toBe('failed')
    expect(run.failure).toMatch(
      /Interrupted before deleting pr-7-orders The table pr-7-orders is untouched \(nothing was deleted\)/
    )
    expect(run.result.backupManifests).toEqual([])
    expect(await tableContent(seed, TABLE)).toHaveLength(40)
  })

  it('during its export: the run stops, and the table is not deleted', async () => {
    const stop = new RunStop()
    const rec = recorder()
    rec.logger.progress = {
      intervalMs: 0,
      update: p => {
        if (p.task === 'export' && p.done > 0) void stop.request('a test', rec.logger)
      }
    }
    const run = await runGuard(inputs(), deps(rec, { stop }))
    expect(run.result.outcome).toBe('failed')
    // A small table's export may be done before the stop is seen: then the next stop point holds.
    expect(run.failure).toMatch(
      /(Export of pr-7-orders interrupted|The scan of pr-7-orders was interrupted|Interrupted before fencing pr-7-orders)/
    )
    expect(await tableContent(seed, TABLE)).toHaveLength(40)
  })
})

describe('whether a run fails', () => {
  it('a blocked plan fails with the tables and their reasons', async () => {
    const run = await runGuard(inputs({ strategy: 'delete' }), deps(recorder()))
    expect(run.result.outcome).toBe('blocked')
    expect(run.failure).toMatch(
      /^1 table\(s\) blocked; nothing was changed\. The deploy would fail on them:\n- pr-7-orders \(us-east-1\): /
    )
  })

  it('report mode never fails on a plan', async () => {
    const run = await runGuard(inputs({ strategy: 'report' }), deps(recorder()))
    expect([run.result.outcome, run.failure]).toEqual(['dry-run', null])
  })
})

describe('a pre-deploy run that fails before its plan', () => {
  it('still names the owed restores: pending-restores, restore-needed and the report keep them', async () => {
    // An earlier run backed TABLE up and deleted it; the deploy failed, so TABLE still owes a restore.
    await takeBackupSet(seed, {
      table: TABLE,
      stage: 'pr-7',
      at: Date.now() - 3_600_000,
      backupDir: ws.dir,
      onDemand: true
    })
    await dropTable(seed, TABLE)
    // This run cannot read another table of the stack: its check fails.
    const USERS = 'pr-7-users'
    const both = workspace(mergeTemplates(TEMPLATE, tableTemplate({ tableName: USERS, logicalId: 'Users' })))
    const proxy = await startRecordingProxy(moto.endpoint, {
      onRequest: call =>
        call.operation === 'DynamoDB.DescribeTable' && call.target === USERS
          ? {
              status: 400,
              type: 'AccessDeniedException',
              message: 'not authorized to perform: dynamodb:DescribeTable'
            }
          : undefined
    })
    try {
      const run = await runGuard(makeInputs(both, { strategy: 'auto', awsBackup: true, stackName: STACK }), {
        ...deps(recorder()),
        createClients: opts => createRunClientPool({ ...opts, endpoint: proxy.endpoint })
      })
      expect(run.result.outcome).toBe('failed')
      expect(run.failure).toMatch(/DescribeTable pr-7-users .*failed/)
      expect(run.result.pendingRestores).toEqual([
        expect.objectContaining({ table: TABLE, source: 'aws-backup' })
      ])
      expect(buildOutputs(run.result)['restore-needed']).toBe('true')
      expect(renderReport(run.report)).toMatch(/still owes? a restore/)
    } finally {
      both.remove()
      await proxy.stop()
    }
  })
})
