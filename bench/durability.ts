/**
 * npm run bench:durability — the durability paths of issue 10, each runnable alone at a small size:
 *
 *   resume   a restore SIGKILLed after BENCH_RESUME_KILL_AT confirmed items of BENCH_RESUME_ITEMS
 *            (dynalite), then resumed: how many items the resume writes again.
 *
 * BENCH_DURABILITY_CASES picks cases (comma-separated; default all). Sizes via the env variables
 * named with each case. Prints one line per measurement and a JSON summary on stdout.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { bundleWorker, countItems, log, startServerProcess, worker, workerUntilKilled } from './harness.js'

const env = (name: string, dflt: number): number =>
  process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt
const CASES = (process.env.BENCH_DURABILITY_CASES ?? 'resume').split(',').map(c => c.trim())

async function createTable(ddb: DynamoDBClient, name: string): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' }
      ],
      BillingMode: 'PAY_PER_REQUEST'
    })
  )
}

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
    await createTable(ddb, 'resume-src')
    await createTable(ddb, 'resume-dst')
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

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ddb-durability-'))
  bundleWorker(join(work, 'worker'))
  const results: Record<string, unknown> = {}
  try {
    if (CASES.includes('resume')) results.resume = await resumeCase(work)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  console.log(JSON.stringify(results, null, 2))
}

await main()
