/**
 * A TTL table backed up on one day and restored days later (the late-restore tests): the items, the
 * backup set (export with its TTL window, S3 copy, on-demand backup), the table the deploy creates
 * with TTL on, and a phase restore run at a later time through a proxy that leaves out of the
 * target's Scans the items DynamoDB's TTL would have deleted by then.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../src/aws/clients.js'
import { restoreBackups, type RestoreBackupsInput } from '../src/execute/restore-backups.js'
import type { RunResult, S3Location } from '../src/types.js'
import { destroyClients, oneRegion, testClients } from './aws-clients.js'
import { dropTable, takeBackupSet, type BackupSetMade } from './backup-sets.js'
import { fakeTime, quietLogger } from './execution.js'
import { makeUnmanagedTable, type Item } from './orphans.js'
import { startMoto, type MotoServer } from './moto.js'
import { startTamperProxy } from './scan-tamper-proxy.js'

export const TTL_TABLE = 'sessions'
export const TTL_STAGE = 'pr-9'
export const TTL_ATTRIBUTE = 'expiresAt'
/** When the backup is taken, and when the restore runs: three days later. */
export const BACKUP_AT = Date.parse('2025-03-07T17:00:00.000Z')
export const DAY_S = 86_400
export const RESTORE_AT = BACKUP_AT + 3 * DAY_S * 1000
const BACKUP_S = BACKUP_AT / 1000
export const RESTORE_S = RESTORE_AT / 1000

/**
 * 12 items: 3 whose TTL had passed at the backup, 4 whose TTL passes between the backup and the
 * restore, 1 alive at the restore with a TTL two days after it (the one a lossy target loses), 3
 * alive long after, 1 without a TTL. By the restore's window: 7 set apart (all expired), 5 alive.
 */
export function ttlItems(): Item[] {
  const ttl = (i: number): number | null => {
    if (i < 3) return BACKUP_S - 3_600
    if (i < 7) return BACKUP_S + DAY_S
    if (i < 8) return BACKUP_S + 5 * DAY_S
    if (i < 11) return BACKUP_S + 10 * DAY_S
    return null
  }
  return Array.from({ length: 12 }, (_, i) => {
    const at = ttl(i)
    return {
      pk: { S: `session-${i}` },
      sk: { S: 'v' },
      user: { S: `user-${i % 4}` },
      ...(at === null ? {} : { [TTL_ATTRIBUTE]: { N: String(at) } })
    }
  })
}

/** The TTL of the item alive at the restore that expires first: a scan that leaves it out lost it. */
export const FIRST_ALIVE_TTL_S = BACKUP_S + 5 * DAY_S

export async function enableTtl(clients: AwsClients, table: string, enabled = true): Promise<void> {
  await clients.dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: table,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: enabled }
    })
  )
}

/**
 * The table with TTL on, backed up at BACKUP_AT into `backupDir` (and S3, and an on-demand backup),
 * then deleted, and created again by "the deploy" with TTL on (`items`: what it holds already).
 */
export async function backedUpTtlTable(
  clients: AwsClients,
  opts: { backupDir: string; s3: S3Location; targetItems?: Item[] }
): Promise<BackupSetMade> {
  await makeUnmanagedTable(clients.dynamodb, { tableName: TTL_TABLE, items: ttlItems() })
  await enableTtl(clients, TTL_TABLE)
  const set = await takeBackupSet(clients, {
    table: TTL_TABLE,
    stage: TTL_STAGE,
    at: BACKUP_AT,
    backupDir: opts.backupDir,
    s3: opts.s3,
    onDemand: true,
    ttlAttribute: TTL_ATTRIBUTE
  })
  await dropTable(clients, TTL_TABLE)
  await makeUnmanagedTable(clients.dynamodb, { tableName: TTL_TABLE, items: opts.targetItems ?? [] })
  await enableTtl(clients, TTL_TABLE)
  return set
}

/**
 * phase restore at RESTORE_AT (a fake clock) through a proxy that leaves out of the target's
 * Scans every item whose TTL lies before `goneBefore` (epoch seconds; default: the restore's
 * start, i.e. what TTL may have deleted by then).
 */
export async function lateRestore(
  endpoint: string,
  over: Partial<RestoreBackupsInput> & { goneBefore?: number }
): Promise<{ result: RunResult; expired: number }> {
  const { goneBefore, ...input } = over
  const proxy = await startTamperProxy({
    target: endpoint,
    expireFromScanPass: {
      pass: 1,
      attribute: TTL_ATTRIBUTE,
      before: goneBefore ?? RESTORE_S,
      table: TTL_TABLE
    }
  })
  const clients = testClients(proxy.endpoint)
  const backupDir = mkdtempSync(join(tmpdir(), 'orphan-guard-late-restore-'))
  try {
    const result = await restoreBackups(oneRegion(clients), {
      backupDir,
      stage: TTL_STAGE,
      s3Bucket: null,
      tables: [{ name: TTL_TABLE, region: 'us-east-1' }],
      localManifests: [],
      dryRun: false,
      logger: quietLogger,
      clock: fakeTime(RESTORE_AT),
      ...input
    })
    return { result, expired: proxy.expired }
  } finally {
    destroyClients(clients)
    await proxy.stop()
    rmSync(backupDir, { recursive: true, force: true })
  }
}

/** The S3 copies' bucket of the late-restore tests. */
export const TTL_BUCKET = 'orphan-guard-ttl-copies'

/**
 * One moto for a late-restore test file, reset before each test with the copies' bucket and a
 * fresh runner folder: read the fields inside the tests (they are set by the hooks).
 */
export function useTtlMoto(): { moto: MotoServer; clients: AwsClients; runner: string } {
  const env = {} as { moto: MotoServer; clients: AwsClients; runner: string }
  beforeAll(async () => {
    env.moto = await startMoto()
    env.clients = testClients(env.moto.endpoint)
  })
  afterAll(async () => {
    if (env.clients) destroyClients(env.clients)
    await env.moto?.stop()
  })
  beforeEach(async () => {
    await env.moto.reset()
    await env.clients.s3.send(new CreateBucketCommand({ Bucket: TTL_BUCKET }))
    env.runner = mkdtempSync(join(tmpdir(), 'orphan-guard-ttl-runner-'))
  })
  afterEach(() => {
    rmSync(env.runner, { recursive: true, force: true })
  })
  return env
}
