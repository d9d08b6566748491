/**
 * Shared by the safety tests: inputs, a template file, the real read-only check, a forged plan
 * entry (defense in depth: the executor's own last check must hold even when the plan is wrong),
 * a fake clock whose sleep advances it, and table content as canonical items.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import type { AwsClients, RegionalClients } from '../src/aws/clients.js'
import { destroyClients, oneRegion, testClients } from './aws-clients.js'
import { startMoto, type MotoServer } from './moto.js'
import { startRecordingProxy, type RecordingOptions, type RecordingProxy } from './recording-proxy.js'
import { describeTableOrNull } from '../src/aws/dynamodb-read.js'
import { canonicalItem } from '../src/data/digest.js'
import { sdkItemToWire } from '../src/data/dynamodb-json.js'
import type { ExecuteDeps } from '../src/execute/execute-plan.js'
import { checkTables } from '../src/run/check-tables.js'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { CfnTemplate, Check, Decision, Inputs, Logger, S3Location, Strategy } from '../src/types.js'

export const quietLogger: Logger = { info: () => {}, warning: () => {}, debug: () => {} }

export const T0 = Date.parse('2025-03-04T05:06:07.000Z')

/** A clock that only moves when the code sleeps: waits end at once and deadlines still expire. */
export function fakeTime(start = T0): {
  now: () => number
  sleep: (ms: number) => Promise<void>
  slept: number[]
} {
  let t = start
  const slept: number[] = []
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms)
      t += Math.max(ms, 1)
    },
    slept
  }
}

/** The executor's collaborators: `clients` (one region's, or every region's) and a fake clock. */
export function deps(clients: AwsClients | RegionalClients): ExecuteDeps & { slept: number[] } {
  const time = fakeTime()
  const regional = 'forRegion' in clients ? clients : oneRegion(clients)
  return { clients: regional, logger: quietLogger, clock: time, slept: time.slept }
}

export interface Workspace {
  dir: string
  templatePath: string
  backupDir: string
  remove(): void
}

/** The `s3-bucket` of the tests that back tables up: a bucket in moto (createBackupBucket) and a prefix. */
export const BACKUP_BUCKET: S3Location = { bucket: 'orphan-guard-test-backups', prefix: 'copies' }

/** Creates the tests' backup bucket in the emulator (again after a moto reset). */
export async function createBackupBucket(
  clients: AwsClients,
  location: S3Location = BACKUP_BUCKET
): Promise<void> {
  await clients.s3.send(new CreateBucketCommand({ Bucket: location.bucket }))
}

/** A temp dir holding `template.json` and an empty backup dir. */
export function workspace(template: CfnTemplate): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-safety-'))
  const templatePath = join(dir, 'template.json')
  writeFileSync(templatePath, JSON.stringify(template, null, 2))
  return {
    dir,
    templatePath,
    backupDir: join(dir, 'backups'),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

export function makeInputs(
  ws: Workspace,
  over: Partial<Inputs> & { stackName: string; strategy: Strategy }
): Inputs {
  return {
    stage: 'pr-7',
    phase: 'pre-deploy',
    template: ws.templatePath,
    tables: [],
    protectedStages: ['prod', 'production'],
    protectedAccounts: [],
    allowDataLoss: false,
    dryRun: false,
    backupDir: ws.backupDir,
    uploadArtifact: false,
    artifactRetentionDays: 7,
    keepFailedChangeSets: false,
    awsBackup: false,
    awsBackupRetentionDays: 14,
    s3Bucket: null,
    copyMode: 'auto',
    serverSideThresholdBytes: 2 ** 30,
    awsRegion: 'us-east-1',
    roleArn: null,
    githubToken: '',
    comment: false,
    prNumber: null,
    ...over
  }
}

export function runCheck(inputs: Inputs, clients: AwsClients | RegionalClients): Promise<Check> {
  return checkTables(
    inputs,
    'forRegion' in clients ? clients : oneRegion(clients, inputs.awsRegion),
    quietLogger
  )
}

/** The check with the plan's decision for `table` replaced: a plan the planner would never make. */
export function forge(check: Check, table: string, decision: Decision): Check {
  let found = false
  const entries = check.plan.entries.map(e => {
    if (e.table !== table) return e
    found = true
    return { ...e, decision, reasons: [`forged by the test: ${decision}`] }
  })
  if (!found) throw new Error(`forge: no plan entry for ${table}`)
  return { ...check, plan: { ...check.plan, entries } }
}

export function decisionOf(check: Check, table: string): Decision | undefined {
  return check.plan.entries.find(e => e.table === table)?.decision
}

/** The table's items as sorted canonical strings, or null when the table does not exist. */
export async function tableContent(clients: AwsClients, table: string): Promise<string[] | null> {
  if ((await describeTableOrNull(clients.dynamodb, table)) === null) return null
  const out: Record<string, AttributeValue>[] = []
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined
  do {
    const page = await clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey }))
    out.push(...(page.Items ?? []))
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey)
  return out.map(i => canonicalItem(sdkItemToWire(i))).sort()
}

/** Operations of the recorded calls that can change something. */
export function mutating(operations: string[], isReadOnly: (op: string) => boolean): string[] {
  return operations.filter(op => !isReadOnly(op))
}

/** moto behind a recording proxy, and clients that talk through the proxy. */
export interface RecordedMoto {
  moto: MotoServer
  rec: RecordingProxy
  clients: AwsClients
}

export async function startRecordedMoto(options: RecordingOptions = {}): Promise<RecordedMoto> {
  const moto = await startMoto()
  const rec = await startRecordingProxy(moto.endpoint, options)
  return { moto, rec, clients: testClients(rec.endpoint) }
}

export async function stopRecordedMoto(env: Partial<RecordedMoto>): Promise<void> {
  if (env.clients) destroyClients(env.clients)
  await env.rec?.stop()
  await env.moto?.stop()
}
