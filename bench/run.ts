/**
 * npm run bench — the data engine against the baselines, in ONE run on ONE dynalite instance.
 *
 * Sizes (env): BENCH_ITEMS (100000), BENCH_BIG_ITEMS (1000000; 0 skips the RSS-at-scale run),
 * BENCH_SHELL_ITEMS (500), BENCH_RATE_WCU (4000), BENCH_RATE_ITEMS (8 × BENCH_RATE_WCU).
 * dynalite runs in its own process and every measurement in a fresh child process (own peak RSS).
 * Prints a table and the targets with pass/fail, and writes bench/results.json.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CreateTableCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { startFaultProxy } from '../test-support/fault-proxy.js'
import { benchItem, itemSize } from './generate.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const env = (name: string, dflt: number): number => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt)
const N = env('BENCH_ITEMS', 100_000)
const BIG = env('BENCH_BIG_ITEMS', 1_000_000)
const SHELL = env('BENCH_SHELL_ITEMS', 500)
const RATE = env('BENCH_RATE_WCU', 4000)
const RATE_ITEMS = env('BENCH_RATE_ITEMS', 8 * RATE)
const SEGMENTS = 4

type Result = Record<string, unknown> & { items: number; seconds: number; peakRssMB?: number }
interface Row {
  name: string
  items: number
  seconds: number
  rate: number
  peakRssMB: number | null
  lost: number | null
  note: string
}
const rows: Row[] = []
const log = (m: string): void => void process.stderr.write(`${m}\n`)

function row(name: string, r: Result, extra: { lost?: number | null; note?: string } = {}): Row {
  const out: Row = { name, items: r.items, seconds: r.seconds, rate: r.items / r.seconds, peakRssMB: r.peakRssMB ?? null, lost: extra.lost ?? null, note: extra.note ?? '' }
  rows.push(out)
  log(`  → ${name}: ${out.items} items in ${out.seconds.toFixed(2)} s = ${Math.round(out.rate)} items/s${out.peakRssMB !== null ? `, peak RSS ${out.peakRssMB.toFixed(0)} MB` : ''}`)
  return out
}

function worker(task: string, args: Record<string, unknown>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--import', './scripts/register-ts.mjs', 'bench/worker.ts', task, JSON.stringify(args)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? ''
      if (code !== 0) reject(new Error(`bench worker ${task} exited with ${code}: ${out}`))
      else resolve(JSON.parse(last) as Result)
    })
  })
}

async function startDynaliteProcess(): Promise<{ endpoint: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--no-warnings', '--import', './scripts/register-ts.mjs', 'bench/dynalite-server.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0] as string) as { endpoint: string }).endpoint)
    })
    child.on('exit', (code) => reject(new Error(`dynalite exited with ${code}`)))
  })
  return { endpoint, stop: () => void child.stdin.end() }
}

async function countItems(ddb: DynamoDBClient, table: string): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, Segment) => {
      let n = 0
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined
      do {
        const page = await ddb.send(new ScanCommand({ TableName: table, Segment, TotalSegments: SEGMENTS, Select: 'COUNT', ExclusiveStartKey }))
        n += page.Count ?? 0
        ExclusiveStartKey = page.LastEvaluatedKey
      } while (ExclusiveStartKey !== undefined)
      return n
    })
  )
  return counts.reduce((a, b) => a + b, 0)
}

function awsCliAvailable(): boolean {
  return spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync('jq', ['--version'], { stdio: 'ignore' }).status === 0
}

function shell(cmd: 'backup' | 'restore', endpoint: string, table: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn('bash', [join(ROOT, 'bench', 'baseline.sh'), cmd, endpoint, table, file], { stdio: ['ignore', 'inherit', 'ignore'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e9) : reject(new Error(`baseline.sh ${cmd} exited with ${code}`))))
  })
}

const fmt = (n: number | null, digits = 0): string => (n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits))

async function main(): Promise<void> {
  const started = Date.now()
  const work = await mkdtemp(join(tmpdir(), 'ddb-bench-'))
  const db = await startDynaliteProcess()
  const ddb = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  const create = (name: string): Promise<unknown> =>
    ddb.send(
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
  const avgSize = Math.round(Array.from({ length: 1000 }, (_, i) => itemSize(benchItem(i))).reduce((a, b) => a + b, 0) / 1000)
  log(`Bench: ${N} items of ~${avgSize} bytes (1M run: ${BIG || 'skipped'}), dynalite at ${db.endpoint}, ${cpus().length} cores, node ${process.version}`)
  const results: Record<string, unknown> = {}
  try {
    // ── 100k: raw limits, our export/restore, in-process sequential baseline ──
    for (const t of ['src', 'raw-b', 'ours-dst', 'seq-dst']) await create(t)
    log(`\n[1/6] raw write limit (pre-built 25-item requests, 16 in flight) — loads the source table`)
    const rawA = row('raw write limit (a)', await worker('rawWrite', { endpoint: db.endpoint, table: 'src', count: N, prebuild: true, inFlight: 16 }))
    log(`[2/6] our export vs raw parallel scan`)
    const rawScan = row('raw parallel scan (4 segments, no file I/O)', await worker('rawScan', { endpoint: db.endpoint, table: 'src', segments: SEGMENTS }))
    const dir100k = join(work, 'backup-100k')
    const exp = row('our export (gzip NDJSON + manifest)', await worker('ourExport', { endpoint: db.endpoint, table: 'src', dir: dir100k, segments: SEGMENTS }))
    log(`[3/6] our restore vs raw write`)
    const res = await worker('ourRestore', { endpoint: db.endpoint, table: 'ours-dst', manifestPath: join(dir100k, 'manifest.json'), verifyEndpoint: db.endpoint })
    const restore = row('our restore (checked, checkpointed)', res, { lost: res.verified === 'ok' ? 0 : null, note: `verify: ${String(res.verified)}` })
    const rawB = row('raw write limit (b)', await worker('rawWrite', { endpoint: db.endpoint, table: 'raw-b', from: 0, count: N, prebuild: true, inFlight: 16 }))
    const rawRate = (rawA.rate + rawB.rate) / 2
    log(`[4/6] baseline 2: the scripts' algorithm in-process (sequential scan into memory, sequential batches, no retry)`)
    const seqFile = join(work, 'seq-100k.json')
    const seqB = row('baseline 2 backup (sequential scan → one JSON)', await worker('seqBackup', { endpoint: db.endpoint, table: 'src', file: seqFile }))
    const seqR = await worker('seqRestore', { endpoint: db.endpoint, table: 'seq-dst', file: seqFile })
    const seqRestore = row('baseline 2 restore (sequential, no retry)', seqR, { lost: N - (await countItems(ddb, 'seq-dst')) })

    // ── baseline 1: the shell scripts on a smaller sample ──
    log(`[5/6] baseline 1: the shell scripts (aws CLI) on ${SHELL} items`)
    let shellRestore: Row | null = null
    if (awsCliAvailable()) {
      await create('shell-src')
      await create('shell-dst')
      await worker('rawWrite', { endpoint: db.endpoint, table: 'shell-src', from: 0, count: SHELL })
      const shellFile = join(work, 'shell.json')
      const tb = await shell('backup', db.endpoint, 'shell-src', shellFile)
      row('baseline 1 backup (aws dynamodb scan)', { items: SHELL, seconds: tb })
      const tr = await shell('restore', db.endpoint, 'shell-dst', shellFile)
      shellRestore = row('baseline 1 restore (1 aws process / 25 items)', { items: SHELL, seconds: tr }, { lost: SHELL - (await countItems(ddb, 'shell-dst')) })
    } else {
      log('  aws CLI or jq not found: baseline 1 (shell scripts) skipped')
    }

    // ── rate-limited endpoint ──
    log(`[6/6] rate-limited endpoint: ${RATE} WCU/s token bucket, ${RATE_ITEMS} items`)
    for (const t of ['rate-src', 'rate-ours', 'rate-script']) await create(t)
    await worker('rawWrite', { endpoint: db.endpoint, table: 'rate-src', from: 0, count: RATE_ITEMS })
    const dirRate = join(work, 'backup-rate')
    await worker('ourExport', { endpoint: db.endpoint, table: 'rate-src', dir: dirRate, segments: SEGMENTS })
    const rateFile = join(work, 'rate.json')
    await worker('seqBackup', { endpoint: db.endpoint, table: 'rate-src', file: rateFile })
    const proxy = await startFaultProxy({ target: db.endpoint, writeUnitsPerSecond: RATE, burst: RATE / 4 })
    let rateOurs: Row
    let rateScript: Row
    try {
      const r = await worker('ourRestore', { endpoint: proxy.endpoint, table: 'rate-ours', manifestPath: join(dirRate, 'manifest.json'), verifyEndpoint: db.endpoint })
      rateOurs = row(`our restore @ ${RATE} WCU/s`, r, { lost: RATE_ITEMS - (await countItems(ddb, 'rate-ours')), note: `verify: ${String(r.verified)}; unprocessed ${String((r.retries as { unprocessedItems: number }).unprocessedItems)}, throttled ${String((r.retries as { throttled: number }).throttled)}` })
      const s = await worker('seqRestore', { endpoint: proxy.endpoint, table: 'rate-script', file: rateFile })
      rateScript = row(`script-style restore @ ${RATE} WCU/s`, s, { lost: RATE_ITEMS - (await countItems(ddb, 'rate-script')), note: 'UnprocessedItems ignored, no retry: reports success' })
    } finally {
      await proxy.stop()
    }

    // ── RSS at scale ──
    let big: { exp: Row; restore: Row } | null = null
    if (BIG > 0) {
      log(`[+] peak RSS at ${BIG} items (export + restore)`)
      await create('big-src')
      await create('big-dst')
      row(`load ${BIG} (raw write, generated on the fly)`, await worker('rawWrite', { endpoint: db.endpoint, table: 'big-src', from: 0, count: BIG }))
      const dirBig = join(work, 'backup-big')
      const e = row(`our export ${BIG}`, await worker('ourExport', { endpoint: db.endpoint, table: 'big-src', dir: dirBig, segments: SEGMENTS }))
      const rb = await worker('ourRestore', { endpoint: db.endpoint, table: 'big-dst', manifestPath: join(dirBig, 'manifest.json'), verifyEndpoint: db.endpoint })
      const r = row(`our restore ${BIG}`, rb, { lost: rb.verified === 'ok' ? 0 : null, note: `verify: ${String(rb.verified)}` })
      big = { exp: e, restore: r }
    }

    // ── targets ──
    const targets: { target: string; value: string; pass: boolean | null }[] = []
    const add = (target: string, value: string, pass: boolean | null): void => void targets.push({ target, value, pass })
    add(`restore / raw write limit ≥ 0.85 (${N} items)`, `${(restore.rate / rawRate).toFixed(2)} (${Math.round(restore.rate)} vs ${Math.round(rawRate)} items/s; raw = mean of a, b)`, restore.rate / rawRate >= 0.85)
    add('export / raw parallel scan ≥ 0.85', `${(exp.rate / rawScan.rate).toFixed(2)} (${Math.round(exp.rate)} vs ${Math.round(rawScan.rate)} items/s)`, exp.rate / rawScan.rate >= 0.85)
    add(`rate-limited: ≥ 0.90 of ${RATE} WCU/s with 0 lost`, `${(rateOurs.rate / RATE).toFixed(2)} (${Math.round(rateOurs.rate)} items/s), lost ${rateOurs.lost}; script-style lost ${rateScript.lost} of ${RATE_ITEMS}`, rateOurs.rate / RATE >= 0.9 && rateOurs.lost === 0)
    add('≥ 20× the shell-script restore', shellRestore === null ? 'skipped (no aws CLI)' : `${(restore.rate / shellRestore.rate).toFixed(0)}× (${Math.round(shellRestore.rate)} items/s)`, shellRestore === null ? null : restore.rate / shellRestore.rate >= 20)
    add('faster than the in-process sequential restore', `${(restore.rate / seqRestore.rate).toFixed(2)}× (${Math.round(seqRestore.rate)} items/s)`, restore.rate > seqRestore.rate)
    if (big !== null) {
      const peak = Math.max(big.exp.peakRssMB ?? 0, big.restore.peakRssMB ?? 0)
      add(`peak RSS ≤ 150 MB for export + restore of ${BIG} items`, `export ${fmt(big.exp.peakRssMB)} MB, restore ${fmt(big.restore.peakRssMB)} MB`, peak <= 150)
      const small = Math.max(exp.peakRssMB ?? 0, restore.peakRssMB ?? 0)
      add(`peak RSS flat in N (${N} vs ${BIG})`, `${small.toFixed(0)} MB vs ${peak.toFixed(0)} MB`, peak <= small * 1.2 + 10)
    } else add('peak RSS at 1M items', 'skipped (BENCH_BIG_ITEMS=0)', null)

    // ── print ──
    const header = ['run', 'items', 'seconds', 'items/s', 'peak RSS MB', 'lost', 'note']
    const table = rows.map((r) => [r.name, String(r.items), r.seconds.toFixed(2), fmt(r.rate), fmt(r.peakRssMB), r.lost === null ? '—' : String(r.lost), r.note])
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => (t[i] as string).length)))
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')
    console.log(`\n${line(header)}\n${widths.map((w) => '─'.repeat(w)).join('  ')}`)
    for (const t of table) console.log(line(t))
    console.log('\nTargets')
    for (const t of targets) console.log(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.value}`)
    const totalS = (Date.now() - started) / 1000
    console.log(`\nWhole bench: ${totalS.toFixed(0)} s`)

    Object.assign(results, {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      config: { items: N, bigItems: BIG, shellItems: SHELL, rateWcu: RATE, rateItems: RATE_ITEMS, segments: SEGMENTS, avgItemBytes: avgSize },
      runs: rows,
      ratios: {
        restoreVsRaw: restore.rate / rawRate,
        exportVsRawScan: exp.rate / rawScan.rate,
        rateLimitedVsAllowed: rateOurs.rate / RATE,
        restoreVsShell: shellRestore === null ? null : restore.rate / shellRestore.rate,
        restoreVsSequential: restore.rate / seqRestore.rate,
        exportVsSequentialBackup: exp.rate / seqB.rate
      },
      targets,
      totalSeconds: totalS
    })
    await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
    console.log('Wrote bench/results.json')
  } finally {
    ddb.destroy()
    db.stop()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
