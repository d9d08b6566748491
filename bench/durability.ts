/**
 * npm run bench:durability — the durability paths of issue 10, each runnable alone at a small size
 * (npm run bench runs them too, at its sizes):
 *
 *   resume      a restore SIGKILLed after BENCH_RESUME_KILL_AT confirmed items of BENCH_RESUME_ITEMS
 *               (dynalite), then resumed: how many items the resume writes again.
 *   s3          phase restore from the S3 copy (moto's S3, DynamoDB on dynalite) against phase
 *               restore from the export on local disk, same run, interleaved (S3, local, local, S3),
 *               BENCH_S3_ITEMS items; and the S3 restore's peak RSS at BENCH_S3_ITEMS and
 *               BENCH_S3_BIG_ITEMS (flat in the table size).
 *   aws-backup  phase restore from the on-demand backup (RestoreTableFromBackup into a temporary
 *               table, its export, the checked copy, the temporary table deleted) against the same
 *               restore from local disk, on moto, BENCH_BACKUP_ITEMS items: the overhead as a ratio.
 *
 * BENCH_DURABILITY_CASES picks cases (comma-separated; default all three). Prints one line per
 * measurement and a JSON summary on stdout.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../src/aws/clients.js'
import { RESTORED_MARKER } from '../src/data/backup-set.js'
import { destroyClients, testClients } from '../test-support/aws-clients.js'
import { dropTable, takeBackupSet } from '../test-support/backup-sets.js'
import { startMoto } from '../test-support/moto.js'
import {
  bundleWorker,
  countItems,
  createBenchTable,
  log,
  startServerProcess,
  worker,
  workerUntilKilled,
  type Result
} from './harness.js'

const env = (name: string, dflt: number): number =>
  process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt
const CASES = (process.env.BENCH_DURABILITY_CASES ?? 'resume,s3,aws-backup').split(',').map(c => c.trim())

/** A restore killed mid-way and resumed: the items written twice. */
async function resumeCase(work: string): Promise<Record<string, unknown>> {
  const n = env('BENCH_RESUME_ITEMS', 60_000)
  const killAt = env('BENCH_RESUME_KILL_AT', Math.round(n / 3))
  const db = await startServerProcess('dynalite-server.ts')
  const ddb = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })
  try {
    await createBenchTable(ddb, 'resume-src')
    await createBenchTable(ddb, 'resume-dst')
    log(`[resume] loading ${n} items, exporting them`)
    await worker('rawWrite', { endpoint: db.endpoint, table: 'resume-src', count: n })
    const dir = join(work, 'resume')
    await worker('ourExport', { endpoint: db.endpoint, table: 'resume-src', dir, segments: 4 })
    const manifestPath = join(dir, 'manifest.json')
    log(`[resume] restoring, SIGKILL after ${killAt} confirmed items`)
    const said = await workerUntilKilled('restoreKilledAt', {
      endpoint: db.endpoint,
      table: 'resume-dst',
      manifestPath,
      killAt
    })
    const killedAfter = Number(said.find(l => 'killedAfter' in l)?.killedAfter ?? NaN)
    const inTable = await countItems(ddb, 'resume-dst')
    const checkpoint = JSON.parse(
      await readFile(join(dir, 'restore-checkpoint.json'), 'utf8').catch(() => '{}')
    ) as {
      itemsDone?: number
    }
    const resumed = await worker('ourRestore', {
      endpoint: db.endpoint,
      table: 'resume-dst',
      manifestPath,
      verifyEndpoint: db.endpoint
    })
    const rewritten = resumed.items - (n - inTable)
    const result = {
      items: n,
      killAfterConfirmed: killedAfter,
      inTableAtKill: inTable,
      checkpointItemsDone: checkpoint.itemsDone ?? 0,
      resumeWrote: resumed.items,
      resumeSkipped: resumed.skipped,
      rewritten,
      verified: resumed.verified
    }
    log(
      `  → killed after ${killedAfter} confirmed (${inTable} in the table, checkpoint at ${checkpoint.itemsDone ?? 0}); the resume wrote ${resumed.items}: ${rewritten} items written twice; verify ${String(resumed.verified)}`
    )
    return result
  } finally {
    ddb.destroy()
    db.stop()
  }
}

const STAGE = 'bench'
const BUCKET = 'bench-copies'

function sdkClients(endpoint: string): AwsClients {
  return testClients(endpoint, { maxAttempts: 3 })
}

/** The table deleted and created again empty (what the pre-deploy step and the deploy do). */
async function redeploy(clients: AwsClients, table: string): Promise<void> {
  await dropTable(clients, table)
  await createBenchTable(clients.dynamodb, table)
}

/** Phase restore from the S3 copy against from local disk; the S3 restore's peak RSS at two sizes. */
async function s3Case(work: string): Promise<Record<string, unknown>> {
  const n = env('BENCH_S3_ITEMS', 5_000)
  const big = env('BENCH_S3_BIG_ITEMS', 4 * n)
  const db = await startServerProcess('dynalite-server.ts')
  const moto = await startMoto()
  const ddbSide = sdkClients(db.endpoint)
  const s3Side = sdkClients(moto.endpoint)
  const clients: AwsClients = { ...ddbSide, s3: s3Side.s3 }
  const phase = (table: string, backupDir: string, localManifests: string[] = []): Promise<Result> =>
    worker('phaseRestore', {
      endpoint: db.endpoint,
      s3Endpoint: moto.endpoint,
      table,
      stage: STAGE,
      bucket: BUCKET,
      backupDir,
      localManifests
    })
  try {
    await s3Side.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    const out: Record<string, unknown> = { items: n, bigItems: big }
    const fromS3: Result[] = []
    const fromLocal: Result[] = []
    for (const size of [n, big]) {
      const table = `s3-${size}`
      await createBenchTable(ddbSide.dynamodb, table)
      log(`[s3] ${size} items: load, export, copy to S3`)
      await worker('rawWrite', { endpoint: db.endpoint, table, count: size })
      const runner = join(work, `runner-${size}`)
      const set = await takeBackupSet(clients, {
        table,
        stage: STAGE,
        at: Date.now(),
        backupDir: runner,
        s3: { bucket: BUCKET, prefix: '' }
      })
      const marker = `${STAGE}/${table}/${set.timestamp}/${RESTORED_MARKER}`
      const again = async (): Promise<void> => {
        await redeploy(clients, table)
        await s3Side.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: marker }))
      }
      await redeploy(clients, table)
      const first = await phase(table, join(work, `fresh-${size}-1`))
      fromS3.push(first)
      log(
        `  → from S3, ${size} items: ${first.seconds.toFixed(2)} s, peak RSS ${Number(first.peakRssMB).toFixed(0)} MB`
      )
      if (size !== n) {
        out.bigPeakRssMB = first.peakRssMB
        continue
      }
      out.peakRssMB = first.peakRssMB
      for (const source of ['local', 'local', 's3'] as const) {
        await again()
        const r =
          source === 'local'
            ? await phase(table, runner, [set.manifestPath])
            : await phase(table, join(work, `fresh-${size}-${fromS3.length + 1}`))
        ;(source === 'local' ? fromLocal : fromS3).push(r)
        log(
          `  → from ${source === 'local' ? 'local disk' : 'S3'}, ${size} items: ${r.seconds.toFixed(2)} s (${String(r.source)})`
        )
      }
    }
    const mean = (rs: Result[]): number => rs.reduce((a, r) => a + r.seconds, 0) / rs.length
    const s3Runs = fromS3.filter(r => r.items === n)
    out.s3Seconds = mean(s3Runs)
    out.localSeconds = mean(fromLocal)
    out.s3VsLocal = mean(s3Runs) / mean(fromLocal)
    out.rssBigVsSmall = Number(out.bigPeakRssMB) / Number(out.peakRssMB)
    log(
      `  → S3 restore takes ${(out.s3VsLocal as number).toFixed(2)}× the local one (${mean(s3Runs).toFixed(2)} vs ${mean(fromLocal).toFixed(2)} s, means of S3/local/local/S3); peak RSS ${Number(out.peakRssMB).toFixed(0)} MB at ${n}, ${Number(out.bigPeakRssMB).toFixed(0)} MB at ${big}`
    )
    return out
  } finally {
    destroyClients(ddbSide)
    destroyClients(s3Side)
    db.stop()
    await moto.stop()
  }
}

/** Phase restore from the on-demand backup (through a temporary table) against from local disk, on moto. */
async function onDemandCase(work: string): Promise<Record<string, unknown>> {
  const n = env('BENCH_BACKUP_ITEMS', 2_000)
  const moto = await startMoto()
  const clients = sdkClients(moto.endpoint)
  const phase = (backupDir: string, localManifests: string[] = []): Promise<Result> =>
    worker('phaseRestore', {
      endpoint: moto.endpoint,
      table: 'backup-src',
      stage: STAGE,
      backupDir,
      localManifests
    })
  try {
    await createBenchTable(clients.dynamodb, 'backup-src')
    log(`[aws-backup] ${n} items on moto: load, export, on-demand backup`)
    await worker('rawWrite', { endpoint: moto.endpoint, table: 'backup-src', count: n })
    const runner = join(work, 'backup-runner')
    const set = await takeBackupSet(clients, {
      table: 'backup-src',
      stage: STAGE,
      at: Date.now(),
      backupDir: runner,
      onDemand: true
    })
    const local: Result[] = []
    const onDemand: Result[] = []
    for (const source of ['local', 'aws-backup', 'aws-backup', 'local'] as const) {
      await redeploy(clients, 'backup-src') // a new table: the restore is owed again
      const r =
        source === 'local'
          ? await phase(runner, [set.manifestPath])
          : await phase(join(work, `fresh-backup-${onDemand.length}`))
      ;(source === 'local' ? local : onDemand).push(r)
      log(
        `  → from ${source === 'local' ? 'local disk' : 'the on-demand backup'}: ${r.seconds.toFixed(2)} s (${String(r.source)})`
      )
    }
    const mean = (rs: Result[]): number => rs.reduce((a, r) => a + r.seconds, 0) / rs.length
    const ratio = mean(onDemand) / mean(local)
    log(
      `  → the on-demand backup path takes ${ratio.toFixed(2)}× the restore from local disk (${mean(onDemand).toFixed(2)} vs ${mean(local).toFixed(2)} s)`
    )
    return { items: n, onDemandSeconds: mean(onDemand), localSeconds: mean(local), onDemandVsLocal: ratio }
  } finally {
    destroyClients(clients)
    await moto.stop()
  }
}

/** The cases asked for, their results by case. */
export async function durabilityBench(cases: string[] = CASES): Promise<Record<string, unknown>> {
  const work = await mkdtemp(join(tmpdir(), 'ddb-durability-'))
  bundleWorker(join(work, 'worker'))
  const results: Record<string, unknown> = {}
  try {
    if (cases.includes('resume')) results.resume = await resumeCase(work)
    if (cases.includes('s3')) results.s3 = await s3Case(work)
    if (cases.includes('aws-backup')) results.awsBackup = await onDemandCase(work)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return results
}

async function main(): Promise<void> {
  console.log(JSON.stringify(await durabilityBench(), null, 2))
}

// Alone (npm run bench:durability); npm run bench imports durabilityBench instead.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
