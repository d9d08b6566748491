/**
 * npm run bench:server-side — the same table re-created with new keys by backup-restore's two
 * paths, on moto (DynamoDB, S3, CloudFormation on one port, behind the recording proxy):
 *
 *  - runner: export (Scan → gzip files on disk → S3 copy), verify behind the write fence, delete,
 *    the "deploy" (CreateTable with the template's keys, done here), phase restore (BatchWriteItem)
 *    and its verification;
 *  - server-side: the same copy (point-in-time recovery off: the streamed export; BENCH_SS_PITR=1
 *    adds a run with DynamoDB's ExportTableToPointInTime), delete, ImportTable, verification, the
 *    IMPORT change set (CloudFormation's side played by the proxy's import stand-in).
 *
 * For each: the wall time of every step (as the action's step log measures it), the bytes that
 * went through the runner (request and answer bodies of every AWS call, from the proxy), and the
 * copy-time model's prediction for the same number of items on AWS (plan/copy-path.ts: documented
 * rates; export and import times are not documented, so the server-side prediction is the runner's
 * scans only). moto is an emulator: its times say where the runner spends time, not AWS's.
 *
 * Sizes (env): BENCH_SS_ITEMS (20000 in npm run bench; 2000 when run alone is plenty to check it
 * works: `BENCH_SS_ITEMS=2000 npm run bench:server-side`). Prints a table; writes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BatchWriteItemCommand, CreateTableCommand, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../src/aws/clients.js'
import { destroyClients, oneRegion } from '../test-support/aws-clients.js'
import { makeInputs, tableContent } from '../test-support/execution.js'
import { startMoto } from '../test-support/moto.js'
import { startRecordingProxy, type RecordingProxy } from '../test-support/recording-proxy.js'
import { copyTimeModel } from '../src/plan/copy-path.js'
import { formatDuration } from '../src/execute/steps.js'
import { runPhase } from '../src/run/run-phase.js'
import { createRunClients } from '../src/run/clients.js'
import { systemClock, type CfnTemplate, type ExecutionStep, type Inputs, type Logger } from '../src/types.js'
import { benchItem, itemSize } from './generate.js'

const env = (name: string, dflt: number): number =>
  process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt
const N = env('BENCH_SS_ITEMS', 20_000)
const WITH_PITR = process.env.BENCH_SS_PITR === '1'
const TABLE = 'pr-bench-orders'
const STACK = 'pr-bench-db'
const BUCKET = { bucket: 'bench-backups', prefix: 'orphan-guard' }
const log = (m: string): void => void process.stderr.write(`${m}\n`)
const quiet: Logger = { info: () => undefined, warning: m => log(`  warning: ${m}`), debug: () => undefined }

/** The template: the bench items' sk (S) alone as the key, instead of pk + sk (a key schema change). */
const TEMPLATE: CfnTemplate = {
  Resources: {
    Orders: {
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      Properties: {
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'sk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'sk', AttributeType: 'S' }]
      }
    }
  }
}

interface PathRun {
  name: string
  steps: Array<{ action: string; ms: number }>
  totalMs: number
  /** Request and answer bodies of every AWS call the run made. */
  bytes: number
  /** Of those: Scan answers (items read), BatchWriteItem requests (items written), S3 uploads. */
  scanned: number
  written: number
  uploaded: number
  calls: Record<string, number>
  identical: boolean
}

async function load(clients: AwsClients, pitr: boolean): Promise<void> {
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' }
      ]
    })
  )
  for (let i = 0; i < N; i += 25) {
    const batch: WriteRequest[] = []
    for (let j = i; j < Math.min(N, i + 25); j++) batch.push({ PutRequest: { Item: benchItem(j) } })
    await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: batch } }))
  }
  if (pitr) {
    const { UpdateContinuousBackupsCommand } = await import('@aws-sdk/client-dynamodb')
    await clients.dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: TABLE,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }
      })
    )
  }
}

function measured(
  name: string,
  proxy: RecordingProxy,
  from: number,
  steps: ExecutionStep[],
  totalMs: number,
  identical: boolean
): PathRun {
  const calls: Record<string, number> = {}
  let bytes = 0
  let scanned = 0
  let written = 0
  let uploaded = 0
  for (const c of proxy.calls.slice(from)) {
    calls[c.operation] = (calls[c.operation] ?? 0) + 1
    bytes += c.requestBytes + c.responseBytes
    if (c.operation === 'DynamoDB.Scan') scanned += c.responseBytes
    if (c.operation === 'DynamoDB.BatchWriteItem') written += c.requestBytes
    if (c.operation === 'S3.PutObject' || c.operation === 'S3.UploadPart') uploaded += c.requestBytes
  }
  return {
    name,
    steps: steps
      .filter(s => s.durationMs !== undefined)
      .map(s => ({ action: s.action, ms: s.durationMs ?? 0 })),
    totalMs,
    bytes,
    scanned,
    written,
    uploaded,
    calls,
    identical
  }
}

async function onePath(copyMode: 'runner' | 'server-side', pitr: boolean): Promise<PathRun> {
  // Emulator credentials (the bench makes no call to AWS).
  process.env.AWS_ACCESS_KEY_ID ??= 'test'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test'
  const moto = await startMoto()
  const proxy = await startRecordingProxy(moto.endpoint, { importStandIn: true })
  const direct = createRunClients({ region: 'us-east-1', endpoint: moto.endpoint })
  const clients = createRunClients({ region: 'us-east-1', endpoint: proxy.endpoint })
  const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-bench-ss-'))
  try {
    await direct.s3.send(new CreateBucketCommand({ Bucket: BUCKET.bucket }))
    await load(direct, pitr)
    const before = await tableContent(direct, TABLE)
    const templatePath = join(dir, 'template.json')
    writeFileSync(templatePath, JSON.stringify(TEMPLATE))
    const ws = { dir, templatePath, backupDir: join(dir, 'backups'), remove: () => undefined }
    const inputs: Inputs = makeInputs(ws, {
      stackName: STACK,
      strategy: 'backup-restore',
      stage: 'pr-bench',
      s3Bucket: BUCKET,
      copyMode,
      tables: [TABLE]
    })
    const deps = { clients: oneRegion(clients), logger: quiet, clock: systemClock, runId: 'bench' }
    const from = proxy.calls.length
    const t0 = Date.now()
    const pre = await runPhase(inputs, deps)
    if (pre.result.outcome !== 'resolved')
      throw new Error(`${copyMode}: pre-deploy ended ${pre.result.outcome}: ${pre.result.stateNote ?? ''}`)
    const steps = [...pre.result.steps]
    if (copyMode === 'runner') {
      // The deploy creates the table from the template; then phase restore.
      const deployAt = Date.now()
      await direct.dynamodb.send(
        new CreateTableCommand({
          TableName: TABLE,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: 'sk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'sk', AttributeType: 'S' }]
        })
      )
      steps.push({
        table: TABLE,
        action: '(the deploy: CreateTable)',
        status: 'done',
        detail: '',
        durationMs: Date.now() - deployAt
      })
      const restoreAt = Date.now()
      const restored = await runPhase({ ...inputs, phase: 'restore' }, deps)
      if (restored.result.outcome !== 'restored')
        throw new Error(
          `runner: phase restore ended ${restored.result.outcome}: ${restored.result.stateNote ?? ''}`
        )
      steps.push({
        table: TABLE,
        action: 'phase restore (BatchWriteItem, verify)',
        status: 'done',
        detail: '',
        durationMs: Date.now() - restoreAt
      })
    }
    const totalMs = Date.now() - t0
    const identical = JSON.stringify(await tableContent(direct, TABLE)) === JSON.stringify(before)
    return measured(
      copyMode === 'runner'
        ? 'runner'
        : `server-side (${pitr ? 'ExportTableToPointInTime' : 'streamed export'})`,
      proxy,
      from,
      steps,
      totalMs,
      identical
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
    for (const c of [direct, clients]) destroyClients(c)
    await proxy.stop()
    await moto.stop()
  }
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`

export async function benchServerSide(): Promise<PathRun[]> {
  const avgBytes = Math.round(
    Array.from({ length: 100 }, (_, i) => itemSize(benchItem(i))).reduce((a, b) => a + b, 0) / 100
  )
  log(`Server-side bench: ${N} items of about ${avgBytes} bytes, on moto`)
  const runs: PathRun[] = []
  runs.push(await onePath('runner', false))
  runs.push(await onePath('server-side', false))
  if (WITH_PITR) runs.push(await onePath('server-side', true))

  for (const r of runs) {
    console.log(
      `\n${r.name}: ${formatDuration(r.totalMs)} in all; through the runner ${mb(r.bytes)} (scanned ${mb(r.scanned)}, written to DynamoDB ${mb(r.written)}, uploaded to S3 ${mb(r.uploaded)}); content identical: ${r.identical}`
    )
    for (const s of r.steps) console.log(`  ${s.action.padEnd(40)} ${formatDuration(s.ms).padStart(10)}`)
    const writes = r.calls['DynamoDB.BatchWriteItem'] ?? 0
    console.log(
      `  BatchWriteItem calls: ${writes}; ImportTable calls: ${r.calls['DynamoDB.ImportTable'] ?? 0}`
    )
  }
  const runner = runs[0] as PathRun
  const serverSide = runs[1] as PathRun
  console.log(
    `\nBytes through the runner, server-side vs runner: ${(serverSide.bytes / runner.bytes).toFixed(2)} (${mb(serverSide.bytes)} vs ${mb(runner.bytes)})`
  )
  const model = copyTimeModel(N, avgBytes)
  console.log(
    `Copy-time model for ${N} items of ${avgBytes} bytes on AWS (documented rates: 4,000 writes/s, 12,000 reads/s of a new on-demand table): runner ${formatDuration(model.runnerSeconds * 1000)} (writes ${formatDuration(model.writeSeconds * 1000)}, each scan ${formatDuration(model.scanSeconds * 1000)}); server-side: the runner's scans ${formatDuration(model.serverSideScanSeconds.streamed * 1000)} (streamed export) or ${formatDuration(model.serverSideScanSeconds.pitr * 1000)} (ExportTableToPointInTime), plus the export and ImportTable, whose times AWS does not document. moto measured: runner ${formatDuration(runner.totalMs)}, server-side ${formatDuration(serverSide.totalMs)} (both include the write fence's fixed 10 s wait).`
  )
  return runs
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchServerSide().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
