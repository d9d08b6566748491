/**
 * One bench measurement per process, so that each peak RSS is its own.
 * argv[2] = task name, argv[3] = JSON arguments; prints one JSON result line on stdout.
 */
import { readFile, writeFile } from 'node:fs/promises'
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  type BatchWriteItemCommandOutput,
  ScanCommand,
  type AttributeValue,
  type WriteRequest
} from '@aws-sdk/client-dynamodb'
import { sdkItemToWire, wireItemToSdk } from '../src/data/dynamodb-json.js'
import { exportTable } from '../src/data/export.js'
import { S3ExportCopy } from '../src/data/s3-copy.js'
import { scanSegmentPage } from '../src/data/raw-scan.js'
import { restoreTable } from '../src/data/restore.js'
import { BODY_TEXT } from '../src/data/wire-middleware.js'
import { verifyTable } from '../src/data/verify.js'
import { createRunClients } from '../src/run/clients.js'
import { restoreBackups } from '../src/execute/restore-backups.js'
import { systemClock, type Logger } from '../src/types.js'
import { benchItem } from './generate.js'

type Args = Record<string, unknown> & { endpoint: string; table: string }

const logger: Logger = {
  info: m => process.stderr.write(`  ${m}\n`),
  warning: m => process.stderr.write(`  warning: ${m}\n`),
  debug: () => undefined
}

/** The action's own DynamoDB client (createRunClients: cacheMiddleware, the engine's middlewares, timeouts). */
function client(endpoint: string, maxAttempts = 3): DynamoDBClient {
  process.env.AWS_ACCESS_KEY_ID ??= 'test'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test'
  const { dynamodb, cloudformation } = createRunClients({ region: 'us-east-1', endpoint, maxAttempts })
  cloudformation.destroy()
  return dynamodb
}

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9

/** Raw write limit: 25-item requests (pre-built, or generated on the fly for loading), N in flight. */
async function rawWrite(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint)
  const from = Number(a.from ?? 0)
  const count = Number(a.count)
  const inFlight = Number(a.inFlight ?? 16)
  const batches = Math.ceil(count / 25)
  const build = (b: number): WriteRequest[] =>
    Array.from({ length: Math.min(25, count - b * 25) }, (_, j) => ({
      PutRequest: { Item: benchItem(from + b * 25 + j) }
    }))
  const prebuilt = a.prebuild === true ? Array.from({ length: batches }, (_, b) => build(b)) : null
  let next = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches) {
        const b = next++
        let req = prebuilt?.[b] ?? build(b)
        while (req.length > 0) {
          const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [a.table]: req } }))
          req = out.UnprocessedItems?.[a.table] ?? []
        }
      }
    })
  )
  return { items: count, seconds: seconds(t0) }
}

/** Parallel scan taking items as wire JSON (as the export does), each item parsed, counted and dropped. */
async function rawScanWire(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint)
  const segments = Number(a.segments ?? 4)
  let items = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined
      do {
        const page = await scanSegmentPage(
          ddb,
          { table: a.table, segment, segments, startKey: ExclusiveStartKey },
          page => {
            let n = 0
            for (let i = 0; i < page.length; i++) if (JSON.parse(page.text(i)) !== null) n++
            return n
          }
        )
        items += page.result
        ExclusiveStartKey = page.lastEvaluatedKey
      } while (ExclusiveStartKey !== undefined)
    })
  )
  return { items, seconds: seconds(t0) }
}

/** Raw parallel scan limit: same segments, items counted and dropped. */
async function rawScan(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint)
  const segments = Number(a.segments ?? 4)
  let items = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined
      do {
        const page = await ddb.send(
          new ScanCommand({
            TableName: a.table,
            Segment: segment,
            TotalSegments: segments,
            ConsistentRead: true,
            ExclusiveStartKey
          })
        )
        items += page.Items?.length ?? 0
        ExclusiveStartKey = page.LastEvaluatedKey
      } while (ExclusiveStartKey !== undefined)
    })
  )
  return { items, seconds: seconds(t0) }
}

async function ourExport(a: Args): Promise<Record<string, unknown>> {
  const t0 = process.hrtime.bigint()
  const m = await exportTable(client(a.endpoint), {
    table: a.table,
    dir: String(a.dir),
    region: 'us-east-1',
    segments: a.segments === undefined ? undefined : Number(a.segments),
    pageItems: a.pageItems === undefined ? undefined : Number(a.pageItems),
    logger,
    progressIntervalMs: 10_000
  })
  return {
    items: m.itemCount,
    seconds: seconds(t0),
    bytes: m.bytes,
    files: m.dataFiles.length,
    digest: m.contentDigest.value
  }
}

/**
 * The export with its copy to S3, as backup-restore makes it with s3-bucket: data files uploaded
 * as the export closes them, the manifest last, everything verified against the manifest. Timed
 * from the first Scan to the verified copy.
 */
async function ourExportS3(a: Args): Promise<Record<string, unknown>> {
  const { s3, cloudformation, dynamodb, sts } = createRunClients({
    region: 'us-east-1',
    endpoint: String(a.s3Endpoint),
    maxAttempts: 3
  })
  cloudformation.destroy()
  dynamodb.destroy()
  sts.destroy()
  const copy = new S3ExportCopy(s3, String(a.bucket), `bench/${a.table}/${Date.now()}/`)
  const t0 = process.hrtime.bigint()
  try {
    const m = await exportTable(client(a.endpoint), {
      table: a.table,
      dir: String(a.dir),
      region: 'us-east-1',
      segments: a.segments === undefined ? undefined : Number(a.segments),
      logger,
      progressIntervalMs: 10_000,
      onDataFile: (file, absPath) => copy.addDataFile(file, absPath)
    })
    const stored = await copy.complete(m, String(a.dir))
    return {
      items: m.itemCount,
      seconds: seconds(t0),
      s3Bytes: stored.bytes,
      objects: stored.objects,
      verifiedBy: stored.verifiedBy,
      digest: m.contentDigest.value
    }
  } finally {
    await copy.settle()
    s3.destroy()
  }
}

async function ourRestore(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint)
  const t0 = process.hrtime.bigint()
  const report = await restoreTable(ddb, {
    manifestPath: String(a.manifestPath),
    table: a.table,
    logger,
    progressIntervalMs: 10_000
  })
  const s = seconds(t0)
  let verified: string = 'skipped'
  if (a.verifyEndpoint !== undefined) {
    // Verify against the emulator directly (not through a rate-limiting proxy), outside the timing.
    const v = await verifyTable(client(a.verifyEndpoint as string), {
      table: a.table,
      expected: report.expected,
      logger
    }).then(
      () => 'ok',
      (err: unknown) => String(err)
    )
    verified = v
  }
  return {
    items: report.itemsWritten,
    seconds: s,
    retries: report.retries,
    peakConcurrency: report.peakConcurrency,
    skipped: report.itemsSkipped,
    resumed: report.resumed,
    verified
  }
}

/**
 * Our restore, killed with SIGKILL (no cleanup, no last checkpoint) by itself the moment the
 * items that BatchWriteItem confirmed reach `killAt`: what a cancelled job or a lost runner does.
 * Never returns; the parent reads the table and the checkpoint.
 */
async function restoreKilledAt(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint)
  const killAt = Number(a.killAt)
  let confirmed = 0
  const counting = {
    send: (async (command: unknown) => {
      const out: BatchWriteItemCommandOutput = await ddb.send(command as BatchWriteItemCommand)
      if (command instanceof BatchWriteItemCommand) {
        const body = (command.input as { [BODY_TEXT]?: string })[BODY_TEXT] ?? ''
        const items = body.split('{"PutRequest":').length - 1
        const unprocessed = out.UnprocessedItems?.[a.table]?.length ?? 0
        confirmed += items - unprocessed
        if (confirmed >= killAt) {
          process.stdout.write(`${JSON.stringify({ killedAfter: confirmed })}\n`)
          process.kill(process.pid, 'SIGKILL')
        }
      }
      return out
    }) as typeof ddb.send
  }
  await restoreTable(counting, { manifestPath: String(a.manifestPath), table: a.table, logger })
  throw new Error(`the restore ended before ${killAt} items were confirmed (${confirmed})`)
}

/**
 * phase restore as the action runs it (restoreBackups: find the owed backup in AWS, load it from
 * this run's export, the S3 copy or the on-demand backup, verify, record). DynamoDB at `endpoint`,
 * S3 at `s3Endpoint` (default: the same); STS at the DynamoDB endpoint, so that with dynalite the
 * account comes from the table's ARN, as the manifests written there record it.
 */
async function phaseRestore(a: Args): Promise<Record<string, unknown>> {
  process.env.AWS_ACCESS_KEY_ID ??= 'test'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test'
  const here = createRunClients({ region: 'us-east-1', endpoint: a.endpoint, maxAttempts: 3 })
  const s3Side = createRunClients({
    region: 'us-east-1',
    endpoint: typeof a.s3Endpoint === 'string' ? a.s3Endpoint : a.endpoint,
    maxAttempts: 3
  })
  const clients = { ...here, s3: s3Side.s3 }
  const t0 = process.hrtime.bigint()
  const result = await restoreBackups(
    { defaultRegion: 'us-east-1', forRegion: () => clients },
    {
      backupDir: String(a.backupDir),
      stage: String(a.stage),
      s3Bucket: typeof a.bucket === 'string' ? { bucket: a.bucket, prefix: '' } : null,
      tables: [{ name: a.table, region: 'us-east-1' }],
      localManifests: (a.localManifests as string[] | undefined) ?? [],
      dryRun: false,
      logger,
      clock: systemClock
    }
  )
  const s = seconds(t0)
  if (result.outcome !== 'restored')
    throw new Error(`phase restore: ${result.outcome}: ${result.stateNote ?? ''}`)
  return {
    items: result.restoredItems,
    seconds: s,
    source: result.steps.map(x => x.action).join(', ')
  }
}

/** Baseline 2, backup: sequential Scan into memory, then one {"Items":[...]} file. */
async function seqBackup(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint)
  const t0 = process.hrtime.bigint()
  const items: Record<string, AttributeValue>[] = []
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined
  do {
    const page = await ddb.send(new ScanCommand({ TableName: a.table, ExclusiveStartKey }))
    items.push(...(page.Items ?? []))
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey !== undefined)
  await writeFile(String(a.file), JSON.stringify({ Items: items.map(sdkItemToWire), Count: items.length }))
  return { items: items.length, seconds: seconds(t0) }
}

/** Baseline 2, restore: whole file in memory, sequential 25-item BatchWriteItem, UnprocessedItems ignored, no retry. */
async function seqRestore(a: Args): Promise<Record<string, unknown>> {
  const ddb = client(a.endpoint, 1)
  const t0 = process.hrtime.bigint()
  const { Items } = JSON.parse(await readFile(String(a.file), 'utf8')) as { Items: Record<string, unknown>[] }
  let ignored = 0
  let failed = 0
  for (let i = 0; i < Items.length; i += 25) {
    const req = Items.slice(i, i + 25).map(it => ({ PutRequest: { Item: wireItemToSdk(it) } }))
    try {
      const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [a.table]: req } }))
      ignored += out.UnprocessedItems?.[a.table]?.length ?? 0
    } catch {
      failed += req.length
    }
  }
  return {
    items: Items.length,
    seconds: seconds(t0),
    unprocessedIgnored: ignored,
    failedBatchesItems: failed
  }
}

/** The process floor: Node, the SDK and the engine loaded, nothing done. */
async function idle(): Promise<Record<string, unknown>> {
  return { items: 0, seconds: 0 }
}

const tasks: Record<string, (a: Args) => Promise<Record<string, unknown>>> = {
  idle,
  rawWrite,
  rawScan,
  rawScanWire,
  ourExport,
  ourExportS3,
  ourRestore,
  restoreKilledAt,
  phaseRestore,
  seqBackup,
  seqRestore
}

async function main(): Promise<void> {
  const [task, json] = process.argv.slice(2) as [string, string]
  const run = tasks[task]
  if (run === undefined) throw new Error(`unknown task ${task}`)
  const before = process.cpuUsage()
  const result = await run(JSON.parse(json) as Args)
  const cpu = process.cpuUsage(before)
  process.stdout.write(
    `${JSON.stringify({ ...result, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`
  )
  process.exit(0)
}

// No top-level await: the bench bundles this file with ncc, like the action ships.
main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
