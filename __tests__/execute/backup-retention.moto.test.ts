/**
 * aws-backup-retention-days on moto (CreateBackup, ListBackups after DeleteTable, DeleteBackup): a
 * pre-deploy run deletes the action's own old on-demand backups whose restore is verified, and
 * nothing else; a dry run lists them, report mode and 0 leave them; a denied DeleteBackup is a
 * warning. A blocked, failed or interrupted run, or one whose owed-restore lookup failed, deletes
 * nothing; a dry run whose plan backs the table up and deletes it lists none of its backups. Time
 * is a fake clock started at the real time (moto stamps backups with the real time), moved on by
 * days: nothing waits.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBackupCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients, RegionalClients } from '../../src/aws/clients.js'
import { listTableBackups } from '../../src/aws/backup.js'
import { describeTableOrNull } from '../../src/aws/dynamodb-read.js'
import { tagTable } from '../../src/aws/dynamodb-write.js'
import {
  backupTimestamp,
  onDemandBackupName,
  RESTORED_TAG,
  restoredTagValue
} from '../../src/data/backup-set.js'
import { findRestoreStates } from '../../src/inspect/owed-restores.js'
import { backupsToRetire, DAY_MS } from '../../src/plan/backup-retention.js'
import { renderReport } from '../../src/report/markdown.js'
import { runPhase, type PhaseDeps } from '../../src/run/run-phase.js'
import type { Inputs, Logger } from '../../src/types.js'
import { dropTable, takeBackupSet } from '../../test-support/backup-sets.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { fakeTime, makeInputs, quietLogger, workspace, type Workspace } from '../../test-support/execution.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  deleteStackAndWait,
  makeUnmanagedTable,
  mergeTemplates,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'

const STAGE = 'pr-7'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
const TEMPLATE = tableTemplate({ tableName: TABLE })

let moto: MotoServer
let clients: AwsClients
let ws: Workspace
let backupDir: string
/** The stack of TABLE that beforeEach creates. */
let stackId: string
/** When the backups were taken (the real time: moto's BackupCreationDateTime). */
let takenAt: number
let ownArn: string
/** Backups of the same table the cleanup must leave: the safety net of strategy delete, another stage's, hand-made ones. */
let others: string[]

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  if (clients) destroyClients(clients)
  await moto?.stop()
})
afterEach(() => {
  ws?.remove()
  rmSync(backupDir, { recursive: true, force: true })
})

/**
 * The table backed up by the action (its on-demand backup named for this stage) and by hand, then
 * deleted and created again by the deploy: its restore is owed.
 */
beforeEach(async () => {
  await moto.reset()
  ws = workspace(TEMPLATE)
  backupDir = mkdtempSync(join(tmpdir(), 'orphan-guard-retention-'))
  takenAt = Date.now()
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(5) })
  const set = await takeBackupSet(clients, {
    table: TABLE,
    stage: STAGE,
    at: takenAt,
    backupDir,
    onDemand: true
  })
  ownArn = set.backupArn as string
  const ts = backupTimestamp(takenAt)
  others = []
  for (const name of [
    onDemandBackupName(STAGE, 'delete', takenAt), // this stage's, the safety net of strategy delete: never deleted
    onDemandBackupName('pr-70', 'restore', takenAt), // another stage
    `orphan-guard_${ts}_restore_pr-7_copy`, // another stage, by the name's rules
    `orphan-guard-${ts}_restore_pr-7`, // hand-made, similar
    `orphan-guard_${ts}_restored_pr-7`, // hand-made, similar
    `${TABLE}-before-migration` // hand-made
  ]) {
    const out = await clients.dynamodb.send(new CreateBackupCommand({ TableName: TABLE, BackupName: name }))
    others.push(out.BackupDetails?.BackupArn as string)
  }
  await dropTable(clients, TABLE)
  stackId = await createStackAndWait(clients, STACK, TEMPLATE)
})

/** The restore recorded as the restore step records it: the tag on the restored table. */
async function recordRestore(): Promise<void> {
  const arn = (await describeTableOrNull(clients.dynamodb, TABLE))?.TableArn as string
  await tagTable(clients.dynamodb, arn, { [RESTORED_TAG]: restoredTagValue(STAGE, backupTimestamp(takenAt)) })
}

async function backupArns(): Promise<string[]> {
  return (await listTableBackups(clients.dynamodb, TABLE)).map(b => b.arn).sort()
}

function preDeploy(
  daysLater: number,
  over: Partial<Omit<Inputs, 'stackName'>> = {},
  logger: Logger = quietLogger,
  c = clients,
  moreDeps: Partial<PhaseDeps> = {}
) {
  const deps: PhaseDeps = {
    clients: oneRegion(c),
    logger,
    clock: fakeTime(takenAt + daysLater * DAY_MS),
    runId: `run-${daysLater}`,
    ...moreDeps
  }
  const inputs = makeInputs(ws, { stage: STAGE, stackName: STACK, strategy: 'auto', ...over })
  return runPhase(inputs, deps)
}

function report(result: Awaited<ReturnType<typeof preDeploy>>['result'], dryRun = false): string {
  return renderReport({
    stage: STAGE,
    strategy: 'auto',
    phase: 'pre-deploy',
    dryRun,
    region: 'us-east-1',
    result
  })
}

describe('aws-backup-retention-days (default 14)', () => {
  it('an old backup still owed is kept; once its restore is recorded it is deleted, and the report says so', async () => {
    const all = await backupArns()
    const owed = await preDeploy(20)
    expect(owed.result.outcome).toBe('nothing-to-do')
    expect(owed.result.pendingRestores).toEqual([expect.objectContaining({ table: TABLE, backup: ownArn })])
    expect(owed.result.deletedBackups).toEqual([])
    expect(await backupArns()).toEqual(all)

    await recordRestore()
    const cleaned = await preDeploy(20)
    expect(cleaned.result.pendingRestores).toEqual([])
    expect(cleaned.result.deletedBackups).toEqual([
      expect.objectContaining({
        table: TABLE,
        arn: ownArn,
        why: expect.stringContaining(`its restore is verified and recorded (tag ${RESTORED_TAG}=`)
      })
    ])
    // Only the action's own backup of this stage went; the others are all there.
    expect(await backupArns()).toEqual([...others].sort())
    const md = report(cleaned.result)
    expect(md).toContain('🧹 1 old backup deleted')
    expect(md).toContain('### 🧹 1 old on-demand backup deleted')
    expect(md).toContain(ownArn)
  })

  it('a young backup is kept (13 days), and a longer retention keeps an old one', async () => {
    await recordRestore()
    const all = await backupArns()
    expect((await preDeploy(13)).result.deletedBackups).toEqual([])
    expect((await preDeploy(20, { awsBackupRetentionDays: 30 })).result.deletedBackups).toEqual([])
    expect(await backupArns()).toEqual(all)
  })

  it('a dry run lists what a real run would delete and deletes nothing', async () => {
    await recordRestore()
    const all = await backupArns()
    const dry = await preDeploy(20, { dryRun: true })
    expect(dry.result.outcome).toBe('nothing-to-do')
    expect(dry.result.deletedBackups).toEqual([expect.objectContaining({ arn: ownArn })])
    expect(await backupArns()).toEqual(all)
    expect(report(dry.result, true)).toContain('### 🧹 1 old on-demand backup a real run would delete')
  })

  it('report mode, aws-backup-retention-days: 0 and a protected stage delete nothing and list nothing', async () => {
    await recordRestore()
    const all = await backupArns()
    for (const over of [
      { strategy: 'report' as const },
      { awsBackupRetentionDays: 0 },
      { protectedStages: ['pr-*'] }
    ]) {
      const run = await preDeploy(400, over)
      expect(run.result.deletedBackups).toBeUndefined()
      expect(report(run.result)).not.toContain('🧹')
    }
    expect(await backupArns()).toEqual(all)
  })

  it("another account's backups are never chosen: the credentials' account must be the backup's (unknown: none)", async () => {
    await recordRestore()
    const rules = { retentionDays: 14, now: takenAt + 20 * DAY_MS, stage: STAGE }
    const lookup = (account: string | null) =>
      findRestoreStates(oneRegion(clients), {
        stage: STAGE,
        account,
        s3Bucket: null,
        tables: [{ name: TABLE, region: 'us-east-1' }],
        localManifests: []
      })
    // The lookup sees only the action's own backups of this stage.
    const [mine] = await lookup('123456789012')
    expect(mine?.ownBackups.map(b => b.arn).sort()).toEqual([ownArn, others[0]].sort())
    expect(
      backupsToRetire(await lookup('123456789012'), { ...rules, account: '123456789012' }).retire
    ).toHaveLength(1)
    // Credentials of another account than the backups' ARNs name: nothing.
    expect(
      backupsToRetire(await lookup('210987654321'), { ...rules, account: '210987654321' }).retire
    ).toEqual([])
    expect(backupsToRetire(await lookup(null), { ...rules, account: null }).retire).toEqual([])
  })

  it('DeleteBackup denied: a warning annotation and a backup note, not a failure; the backup stays', async () => {
    await recordRestore()
    const denied = testClients(moto.endpoint)
    denied.dynamodb.middlewareStack.add(
      (next, context) => async args => {
        if (context.commandName === 'DeleteBackupCommand')
          throw Object.assign(
            new Error(
              'User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: dynamodb:DeleteBackup'
            ),
            { name: 'AccessDeniedException' }
          )
        return next(args)
      },
      { step: 'initialize' }
    )
    const warnings: string[] = []
    try {
      const run = await preDeploy(20, {}, { ...quietLogger, warning: w => warnings.push(w) }, denied)
      expect(run.result.outcome).toBe('nothing-to-do')
      expect(run.result.deletedBackups).toEqual([])
      const about = (lines: string[]) => lines.filter(l => l.includes('DeleteBackup'))
      expect(about(warnings)).toEqual([
        expect.stringMatching(/^DeleteBackup was denied for 1 old backup.*dynamodb:DeleteBackup/)
      ])
      expect(about(run.result.restoreNotes ?? [])).toEqual(about(warnings))
    } finally {
      destroyClients(denied)
    }
    expect(await backupArns()).toContain(ownArn)
  })

  it('a blocked run and a failed run delete nothing (the outcome guard: only nothing-to-do, resolved, dry-run clean up)', async () => {
    await recordRestore()
    // A second table of the template, made by hand and holding items: strategy delete is blocked
    // on it (no allow-data-loss); strategy backup-restore backs it up, and its DeleteTable is denied.
    ws.remove()
    ws = workspace(
      mergeTemplates(TEMPLATE, tableTemplate({ tableName: 'pr-7-items', logicalId: 'ItemsTable' }))
    )
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'pr-7-items', items: sampleItems(3) })
    const all = await backupArns()

    const blocked = await preDeploy(20, { strategy: 'delete' })
    expect(blocked.result.outcome).toBe('blocked')
    expect(blocked.result.deletedBackups).toBeUndefined()
    expect(await backupArns()).toEqual(all)

    const denied = testClients(moto.endpoint)
    denied.dynamodb.middlewareStack.add(
      (next, context) => async args => {
        if (context.commandName === 'DeleteTableCommand')
          throw Object.assign(new Error('not authorized to perform: dynamodb:DeleteTable'), {
            name: 'AccessDeniedException'
          })
        return next(args)
      },
      { step: 'initialize' }
    )
    try {
      const failed = await preDeploy(20, { strategy: 'backup-restore', awsBackup: true }, quietLogger, denied)
      expect(failed.result.outcome).toBe('failed')
      expect(failed.result.stateNote).toMatch(/^Deleting pr-7-items failed: not authorized/)
      expect(failed.result.deletedBackups).toBeUndefined()
    } finally {
      destroyClients(denied)
    }
    expect(await backupArns()).toEqual(all)
  })

  it('an interrupted run deletes nothing (the deps.signal guard), though its outcome is nothing-to-do', async () => {
    await recordRestore()
    const all = await backupArns()
    const stop = new AbortController()
    stop.abort()
    const run = await preDeploy(20, {}, quietLogger, clients, { signal: stop.signal })
    expect(run.result.outcome).toBe('nothing-to-do')
    expect(run.result.deletedBackups).toBeUndefined()
    expect(await backupArns()).toEqual(all)
  })

  it("without the owed-restore lookup after the run, nothing is deleted (the states guard): not even by the check's earlier answer", async () => {
    await recordRestore()
    const all = await backupArns()
    // The check's lookup works (it finds the restore recorded); the lookup after the run fails:
    // the first forRegion call after the check's Plan group throws, once.
    let armed = false
    const regional = oneRegion(clients)
    const failingOnce: RegionalClients = {
      defaultRegion: regional.defaultRegion,
      forRegion: region => {
        if (armed) {
          armed = false
          throw new Error('test: the owed-restore lookup fails')
        }
        return regional.forRegion(region)
      }
    }
    const logger: Logger = {
      ...quietLogger,
      group: async (name, fn) => {
        const out = await fn()
        if (name === 'Plan') armed = true
        return out
      }
    }
    const run = await preDeploy(20, {}, logger, clients, { clients: failingOnce })
    expect(run.result.outcome).toBe('nothing-to-do')
    expect(run.result.pendingRestores).toBeUndefined()
    expect(run.result.restoreNotes).toEqual([
      'Owed restores could not be looked up: test: the owed-restore lookup fails'
    ])
    expect(run.result.deletedBackups).toBeUndefined()
    expect(await backupArns()).toEqual(all)
  })

  it('a dry run whose plan backs the table up and deletes it lists none of its old backups (the backedUp rule)', async () => {
    // The restored table, outside CloudFormation since (its stack gone, the table made again with
    // the restore's tag) and holding items: the plan backs it up and deletes it again, so a real run
    // leaves it owing a restore and keeps every backup of it, however old.
    await deleteStackAndWait(clients.cloudformation, stackId)
    expect(await describeTableOrNull(clients.dynamodb, TABLE)).toBeNull()
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: TABLE,
      items: sampleItems(3),
      tags: { [RESTORED_TAG]: restoredTagValue(STAGE, backupTimestamp(takenAt)) }
    })
    const all = await backupArns()
    const info: string[] = []
    const dry = await preDeploy(
      20,
      { strategy: 'backup-restore', awsBackup: true, dryRun: true },
      { ...quietLogger, info: m => info.push(m) }
    )
    expect(dry.result.outcome).toBe('dry-run')
    expect(dry.result.plan?.entries).toEqual([
      expect.objectContaining({ table: TABLE, decision: 'backup-restore' })
    ])
    expect(dry.result.deletedBackups ?? []).toEqual([])
    expect(info).toContainEqual(
      expect.stringContaining(
        `${TABLE}: old backup ${ownArn} kept: this run backs ${TABLE} up and deletes it`
      )
    )
    expect(report(dry.result, true)).not.toContain('🧹')
    expect(await backupArns()).toEqual(all)
  })
})
