/**
 * npm run bench — the data engine against the baselines, in ONE run on ONE dynalite instance.
 *
 * Sizes (env): BENCH_ITEMS (100000), BENCH_BIG_ITEMS (1000000; 0 skips the RSS-at-scale run),
 * BENCH_SHELL_ITEMS (500), BENCH_RATE_WCU (2000, well under dynalite's own ~4-6k/s here),
 * BENCH_RATE_ITEMS (10 × BENCH_RATE_WCU). After it, the durability cases of bench/durability.ts (resume
 * after SIGKILL, restore from S3 vs local disk, the on-demand backup path) at BENCH_RESUME_ITEMS
 * (60000), BENCH_S3_ITEMS (min(BENCH_ITEMS, 50000)), BENCH_BACKUP_ITEMS (5000).
 * The S3 part (export with its copy to S3, on moto's S3) runs in the same run; BENCH_S3=0 skips it.
 * BENCH_ONLY=s3 runs the S3 part alone (with BENCH_ITEMS / BENCH_BIG_ITEMS; results.json is not
 * written), e.g. `BENCH_ONLY=s3 BENCH_ITEMS=5000 BENCH_BIG_ITEMS=20000 npm run bench`.
 * Then the server-side path of backup-restore against the runner path for one table on moto
 * (bench/server-side.ts; BENCH_SS_ITEMS, default 20000; BENCH_SS=0 skips it).
 * dynalite runs in its own process and every measurement in a fresh child process (own peak RSS).
 * Prints a table and the targets with pass/fail, and writes bench/results.json.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { startFaultProxy } from '../test-support/fault-proxy.js'
import { startMoto } from '../test-support/moto.js'
import { durabilityBench } from './durability.js'
import { benchItem, itemSize } from './generate.js'
import {
  bundleWorker,
  countItems,
  createBenchTable,
  log,
  ROOT,
  startServerProcess,
  worker,
  workerKind,
  type Result
} from './harness.js'
import { benchServerSide } from './server-side.js'

const env = (name: string, dflt: number): number =>
  process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt
const N = env('BENCH_ITEMS', 100_000)
const BIG = env('BENCH_BIG_ITEMS', 1_000_000)
const SHELL = env('BENCH_SHELL_ITEMS', 500)
const RATE = env('BENCH_RATE_WCU', 2000)
const RATE_ITEMS = env('BENCH_RATE_ITEMS', 10 * RATE)
const SEGMENTS = 4
const WITH_S3 = process.env.BENCH_S3 !== '0'
const ONLY = process.env.BENCH_ONLY ?? ''

interface Row {
  name: string
  items: number
  seconds: number
  rate: number
  peakRssMB: number | null
  /** CPU time of the worker process (all its threads) per item, in µs. */
  cpuUsPerItem: number | null
  lost: number | null
  note: string
  digest?: string
}
const rows: Row[] = []

function row(name: string, r: Result, extra: { lost?: number | null; note?: string } = {}): Row {
  const out: Row = {
    name,
    items: r.items,
    seconds: r.seconds,
    rate: r.seconds > 0 ? r.items / r.seconds : 0,
    peakRssMB: r.peakRssMB ?? null,
    cpuUsPerItem: typeof r.cpuSeconds === 'number' && r.items > 0 ? (r.cpuSeconds / r.items) * 1e6 : null,
    lost: extra.lost ?? null,
    note: extra.note ?? '',
    digest: typeof r.digest === 'string' ? r.digest : undefined
  }
  rows.push(out)
  log(
    `  → ${name}: ${out.items} items in ${out.seconds.toFixed(2)} s = ${Math.round(out.rate)} items/s${out.peakRssMB !== null ? `, peak RSS ${out.peakRssMB.toFixed(0)} MB` : ''}`
  )
  return out
}

function awsCliAvailable(): boolean {
  return (
    spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('jq', ['--version'], { stdio: 'ignore' }).status === 0
  )
}

function shell(cmd: 'backup' | 'restore', endpoint: string, table: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn('bash', [join(ROOT, 'bench', 'baseline.sh'), cmd, endpoint, table, file], {
      stdio: ['ignore', 'inherit', 'ignore']
    })
    child.on('error', reject)
    child.on('exit', code =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - t0) / 1e9)
        : reject(new Error(`baseline.sh ${cmd} exited with ${code}`))
    )
  })
}

const fmt = (n: number | null, digits = 0): string =>
  n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits)

/** A table with the bench items' keys (pk, sk: S), on demand. */
interface S3Section {
  ratio: number | null
  targets: { target: string; value: string; pass: boolean | null }[]
  /** Measured, without a target. */
  also: string[]
}

/**
 * Export with the copy to S3 (moto's S3 on a loopback port: the upload, the checksums and the
 * read-back all happen, against a local server) against the export to disk alone, interleaved in
 * this run; then peak RSS of the S3 export at N, BIG and 3 × BIG items (synthetic endpoint).
 */
async function s3Section(dbEndpoint: string, work: string, table: string): Promise<S3Section> {
  const moto = await startMoto()
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })
  const targets: S3Section['targets'] = []
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-backups' }))
    const args = {
      endpoint: dbEndpoint,
      table,
      segments: SEGMENTS,
      s3Endpoint: moto.endpoint,
      bucket: 'bench-backups'
    }
    const disk: Row[] = []
    const toS3: Row[] = []
    for (const round of [1, 2, 3]) {
      disk.push(
        row(
          `our export → disk (${round}, beside S3)`,
          await worker('ourExport', { ...args, dir: join(work, `s3-disk-${round}`) })
        )
      )
      const r = await worker('ourExportS3', { ...args, dir: join(work, `s3-copy-${round}`) })
      toS3.push(
        row(`our export → disk + S3 copy, verified (${round})`, r, {
          note: `${String(r.objects)} objects, ${String(r.s3Bytes)} bytes; verified ${JSON.stringify(r.verifiedBy)}`
        })
      )
    }
    const mean = (rs: Row[]): number => rs.reduce((a, r) => a + r.rate, 0) / rs.length
    const ratio = mean(toS3) / mean(disk)
    const also = [
      `export with its S3 copy / export to disk (moto S3, same run): ${ratio.toFixed(2)} (${Math.round(mean(toS3))} vs ${Math.round(mean(disk))} items/s; upload, checksums and read-back included)`
    ]
    if (BIG > 0) {
      const synth = await startServerProcess('synthetic-endpoint.ts')
      try {
        // Past BIG, the bound itself: V8 may grow its young generation once more in a long run.
        const peaks: Row[] = []
        for (const n of [N, BIG, 3 * BIG]) {
          const dir = join(work, `s3-synthetic-${n}`)
          peaks.push(
            row(
              `our export → disk + S3 copy ${n} (synthetic)`,
              await worker('ourExportS3', { ...args, endpoint: synth.endpoint, table: `synthetic-${n}`, dir })
            )
          )
          await rm(dir, { recursive: true, force: true })
        }
        const [small, big, longer] = peaks.map(p => p.peakRssMB ?? 0) as [number, number, number]
        targets.push({
          target: `peak RSS of the export with its S3 copy flat in N (${N} vs ${BIG})`,
          value: `${small.toFixed(0)} MB vs ${big.toFixed(0)} MB`,
          pass: big <= small * 1.15
        })
        also.push(
          `peak RSS of the export with its S3 copy at ${small.toFixed(0)} MB (${N} items), ${big.toFixed(0)} MB (${BIG}), ${longer.toFixed(0)} MB (${3 * BIG})`
        )
      } finally {
        synth.stop()
      }
    }
    return { ratio, targets, also }
  } finally {
    s3.destroy()
    await moto.stop()
  }
}

/** BENCH_ONLY=s3: the S3 part alone, at the sizes given; prints, writes no results.json. */
async function s3Only(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ddb-bench-s3-'))
  const db = await startServerProcess('dynalite-server.ts')
  const ddb = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })
  try {
    await createBenchTable(ddb, 'src')
    bundleWorker(join(work, 'worker'))
    log(`Bench (S3 part only): ${N} items, RSS runs at ${N} and ${BIG || 'skipped'}; workers: ${workerKind}`)
    await worker('rawWrite', { endpoint: db.endpoint, table: 'src', count: N, prebuild: true, inFlight: 16 })
    const { targets, also } = await s3Section(db.endpoint, work, 'src')
    console.log('\nTargets (S3 part only; bench/results.json not written)')
    for (const t of targets)
      console.log(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.value}`)
    for (const m of also) console.log(`  also  ${m}`)
  } finally {
    ddb.destroy()
    db.stop()
    await rm(work, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const started = Date.now()
  const work = await mkdtemp(join(tmpdir(), 'ddb-bench-'))
  const db = await startServerProcess('dynalite-server.ts')
  const ddb = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })
  const create = (name: string): Promise<unknown> => createBenchTable(ddb, name)
  bundleWorker(join(work, 'worker'))
  const avgSize = Math.round(
    Array.from({ length: 1000 }, (_, i) => itemSize(benchItem(i))).reduce((a, b) => a + b, 0) / 1000
  )
  log(
    `Bench: ${N} items of ~${avgSize} bytes (1M run: ${BIG || 'skipped'}), dynalite at ${db.endpoint}, ${cpus().length} cores, node ${process.version}, workers: ${workerKind}`
  )
  const results: Record<string, unknown> = {}
  try {
    // ── 100k: raw limits and ours, interleaved (this machine is shared: runs vary by ±30 %) ──
    for (const t of ['src', 'raw-b', 'raw-c', 'ours-1', 'ours-2', 'seq-dst']) await create(t)
    const floor = row(
      'process floor (Node + SDK + engine loaded, idle)',
      await worker('idle', { endpoint: db.endpoint, table: '' })
    )
    log(`\n[1/7] raw write limit (pre-built 25-item requests, 16 in flight) — loads the source table`)
    row(
      'raw write limit (a: loads the source into an empty store)',
      await worker('rawWrite', {
        endpoint: db.endpoint,
        table: 'src',
        count: N,
        prebuild: true,
        inFlight: 16
      })
    )
    log(`[2/7] our export vs raw parallel scans (interleaved, five rounds: single runs here vary by ±15 %)`)
    const scanArgs = { endpoint: db.endpoint, table: 'src', segments: SEGMENTS }
    const dir100k = join(work, 'backup-100k')
    const rawScans: Row[] = []
    const rawScansWire: Row[] = []
    const exports: Row[] = []
    for (const round of [1, 2, 3, 4, 5]) {
      rawScans.push(row(`raw parallel scan, SDK-decoded (${round})`, await worker('rawScan', scanArgs)))
      rawScansWire.push(row(`raw parallel scan, wire JSON (${round})`, await worker('rawScanWire', scanArgs)))
      exports.push(
        row(
          `our export → gzip NDJSON + manifest (${round})`,
          await worker('ourExport', { ...scanArgs, dir: dir100k })
        )
      )
    }
    log(`[3/7] our restore vs raw write (interleaved)`)
    const restores: Row[] = []
    const ourRestoreRun = async (table: string, label: string): Promise<Row> => {
      const r = await worker('ourRestore', {
        endpoint: db.endpoint,
        table,
        manifestPath: join(dir100k, 'manifest.json'),
        verifyEndpoint: db.endpoint
      })
      return row(label, r, {
        lost: r.verified === 'ok' ? 0 : null,
        note: `verify: ${String(r.verified)}; peak ${String(r.peakConcurrency)} batches in flight`
      })
    }
    // ABBA order after the load (dynalite slows down as its store grows): ours, raw, raw, ours.
    restores.push(await ourRestoreRun('ours-1', 'our restore (checked, checkpointed) (1)'))
    const rawB = row(
      'raw write limit (b)',
      await worker('rawWrite', {
        endpoint: db.endpoint,
        table: 'raw-b',
        from: 0,
        count: N,
        prebuild: true,
        inFlight: 16
      })
    )
    const rawC = row(
      'raw write limit (c)',
      await worker('rawWrite', {
        endpoint: db.endpoint,
        table: 'raw-c',
        from: 0,
        count: N,
        prebuild: true,
        inFlight: 16
      })
    )
    restores.push(await ourRestoreRun('ours-2', 'our restore (checked, checkpointed) (2)'))
    const mean = (rs: Row[]): number => rs.reduce((a, r) => a + r.rate, 0) / rs.length
    const rawRate = mean([rawB, rawC])
    const restoreRate = mean(restores)
    const exportRate = mean(exports)
    const rawScanRate = Math.max(mean(rawScans), mean(rawScansWire))
    let s3: S3Section | null = null
    if (WITH_S3) {
      log(`[3b/7] export with its copy to S3 (moto) against the export to disk (interleaved, three rounds)`)
      s3 = await s3Section(db.endpoint, work, 'src')
    }
    log(
      `[4/7] baseline 2: the scripts' algorithm in-process (sequential scan into memory, sequential batches, no retry)`
    )
    const seqFile = join(work, 'seq-100k.json')
    const seqB = row(
      'baseline 2 backup (sequential scan → one JSON)',
      await worker('seqBackup', { endpoint: db.endpoint, table: 'src', file: seqFile })
    )
    const seqR = await worker('seqRestore', { endpoint: db.endpoint, table: 'seq-dst', file: seqFile })
    const seqRestore = row('baseline 2 restore (sequential, no retry)', seqR, {
      lost: N - (await countItems(ddb, 'seq-dst'))
    })

    // ── baseline 1: the shell scripts on a smaller sample ──
    log(`[5/7] baseline 1: the shell scripts (aws CLI) on ${SHELL} items`)
    let shellRestore: Row | null = null
    if (awsCliAvailable()) {
      await create('shell-src')
      await create('shell-dst')
      await worker('rawWrite', { endpoint: db.endpoint, table: 'shell-src', from: 0, count: SHELL })
      const shellFile = join(work, 'shell.json')
      const tb = await shell('backup', db.endpoint, 'shell-src', shellFile)
      row('baseline 1 backup (aws dynamodb scan)', { items: SHELL, seconds: tb })
      const tr = await shell('restore', db.endpoint, 'shell-dst', shellFile)
      shellRestore = row(
        'baseline 1 restore (1 aws process / 25 items)',
        { items: SHELL, seconds: tr },
        { lost: SHELL - (await countItems(ddb, 'shell-dst')) }
      )
    } else {
      log('  aws CLI or jq not found: baseline 1 (shell scripts) skipped')
    }

    // ── rate-limited endpoint ──
    log(`[6/7] rate-limited endpoint: ${RATE} WCU/s token bucket, ${RATE_ITEMS} items`)
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
      const r = await worker('ourRestore', {
        endpoint: proxy.endpoint,
        table: 'rate-ours',
        manifestPath: join(dirRate, 'manifest.json'),
        verifyEndpoint: db.endpoint
      })
      rateOurs = row(`our restore @ ${RATE} WCU/s (token bucket, burst ${RATE / 4})`, r, {
        lost: RATE_ITEMS - (await countItems(ddb, 'rate-ours')),
        note: `verify: ${String(r.verified)}; unprocessed ${String((r.retries as { unprocessedItems: number }).unprocessedItems)}, throttled ${String((r.retries as { throttled: number }).throttled)}`
      })
      const s = await worker('seqRestore', { endpoint: proxy.endpoint, table: 'rate-script', file: rateFile })
      rateScript = row(`script-style restore @ ${RATE} WCU/s`, s, {
        lost: RATE_ITEMS - (await countItems(ddb, 'rate-script')),
        note: 'UnprocessedItems ignored, no retry: reports success'
      })
    } finally {
      await proxy.stop()
    }

    // ── memory at scale, against the synthetic endpoint ──
    const scale: { n: number; heap: string; exp: Row; restore: Row }[] = []
    if (BIG > 0) {
      log(
        `[7/7] peak RSS of export + restore at ${N} and ${BIG} items (synthetic endpoint: generated scans, writes digested and dropped)`
      )
      const synth = await startServerProcess('synthetic-endpoint.ts')
      try {
        const runs: [number, string, string[]][] = [
          [N, 'default V8 heap', []],
          [BIG, 'default V8 heap', []],
          [BIG, 'old space capped at 64 MB', ['--max-old-space-size=64']]
        ]
        for (const [n, heap, flags] of runs) {
          const dir = join(work, `synthetic-${n}`)
          const sink = `sink-${n}-${scale.length}`
          const e = row(
            `our export ${n} (synthetic; ${heap})`,
            await worker(
              'ourExport',
              { endpoint: synth.endpoint, table: `synthetic-${n}`, dir, segments: SEGMENTS },
              flags
            )
          )
          const r = await worker(
            'ourRestore',
            { endpoint: synth.endpoint, table: sink, manifestPath: join(dir, 'manifest.json') },
            flags
          )
          const stats = (await (await fetch(`${synth.endpoint}/stats/${sink}`)).json()) as {
            items: number
            distinctKeys: number
            digest: string
          }
          const delivered = stats.distinctKeys === n && stats.digest === e.digest
          scale.push({
            n,
            heap,
            exp: e,
            restore: row(`our restore ${n} (synthetic sink; ${heap})`, r, {
              lost: n - stats.distinctKeys,
              note: `sink: ${stats.distinctKeys} distinct keys, digest ${delivered ? 'equals' : 'DIFFERS from'} the manifest's`
            })
          })
          await rm(dir, { recursive: true, force: true })
        }
      } finally {
        synth.stop()
      }
    }

    // ── durability (issue 10): resume after SIGKILL, restore from S3 and from the on-demand backup ──
    log(`[+] durability: resume after SIGKILL, restore from S3 vs local disk, on-demand backup overhead`)
    process.env.BENCH_RESUME_ITEMS ??= '60000'
    process.env.BENCH_S3_ITEMS ??= String(Math.min(N, 50_000))
    process.env.BENCH_S3_BIG_ITEMS ??= String(4 * Number(process.env.BENCH_S3_ITEMS))
    process.env.BENCH_BACKUP_ITEMS ??= '5000'
    const durability = await durabilityBench()

    // ── targets ──
    const targets: { target: string; value: string; pass: boolean | null }[] = []
    const add = (target: string, value: string, pass: boolean | null): void =>
      void targets.push({ target, value, pass })
    add(
      `restore / raw write limit ≥ 0.85 (${N} items)`,
      `${(restoreRate / rawRate).toFixed(2)} (${Math.round(restoreRate)} vs ${Math.round(rawRate)} items/s; means of ours/raw/raw/ours runs)`,
      restoreRate / rawRate >= 0.85
    )
    add(
      'export / raw parallel scan ≥ 0.85',
      `${(exportRate / rawScanRate).toFixed(2)} (${Math.round(exportRate)} vs ${Math.round(rawScanRate)} items/s; raw = the faster of SDK-decoded ${Math.round(mean(rawScans))} and wire ${Math.round(mean(rawScansWire))})`,
      exportRate / rawScanRate >= 0.85
    )
    const meanCpu = (rs: Row[]): number => rs.reduce((a, r) => a + (r.cpuUsPerItem ?? 0), 0) / rs.length
    const alsoMeasured = [
      `CPU per item (all threads of the worker; steadier than rates on a shared machine): export ${meanCpu(exports).toFixed(1)} µs, raw wire scan ${meanCpu(rawScansWire).toFixed(1)} µs, raw SDK-decoded scan ${meanCpu(rawScans).toFixed(1)} µs`
    ]
    add(
      `rate-limited: ≥ 0.90 of ${RATE} WCU/s with 0 lost`,
      `${(rateOurs.rate / RATE).toFixed(2)} (${Math.round(rateOurs.rate)} items/s), lost ${rateOurs.lost}; script-style lost ${rateScript.lost} of ${RATE_ITEMS}`,
      rateOurs.rate / RATE >= 0.9 && rateOurs.lost === 0
    )
    add(
      '≥ 20× the shell-script restore',
      shellRestore === null
        ? 'skipped (no aws CLI)'
        : `${(restoreRate / shellRestore.rate).toFixed(0)}× (${Math.round(shellRestore.rate)} items/s)`,
      shellRestore === null ? null : restoreRate / shellRestore.rate >= 20
    )
    add(
      'faster than the in-process sequential restore',
      `${(restoreRate / seqRestore.rate).toFixed(2)}× (${Math.round(seqRestore.rate)} items/s)`,
      restoreRate > seqRestore.rate
    )
    const big = scale.find(x => x.n === BIG && x.heap.startsWith('default'))
    const small = scale.find(x => x.n === N)
    const capped = scale.find(x => x.n === BIG && x.heap.startsWith('old space'))
    if (big !== undefined && small !== undefined && capped !== undefined) {
      const peak = (x: { exp: Row; restore: Row }): number =>
        Math.max(x.exp.peakRssMB ?? 0, x.restore.peakRssMB ?? 0)
      add(
        `peak RSS ≤ 150 MB for export + restore of ${BIG} items (default V8 heap)`,
        `export ${fmt(big.exp.peakRssMB)} MB, restore ${fmt(big.restore.peakRssMB)} MB (process floor ${fmt(floor.peakRssMB)} MB)`,
        peak(big) <= 150
      )
      add(
        `peak RSS ≤ 150 MB for export + restore of ${BIG} items (old space capped at 64 MB: same run, shows the live set is small)`,
        `export ${fmt(capped.exp.peakRssMB)} MB, restore ${fmt(capped.restore.peakRssMB)} MB`,
        peak(capped) <= 150
      )
      add(
        `peak RSS flat in N (${N} vs ${BIG}, default heap)`,
        `${peak(small).toFixed(0)} MB vs ${peak(big).toFixed(0)} MB`,
        peak(big) <= peak(small) * 1.15
      )
      add(
        `${BIG}-item restores delivered exactly the backup`,
        `${big.restore.note}; capped run: ${capped.restore.note}`,
        big.restore.lost === 0 &&
          big.restore.note.includes('equals') &&
          capped.restore.lost === 0 &&
          capped.restore.note.includes('equals')
      )
    } else add('peak RSS at 1M items', 'skipped (BENCH_BIG_ITEMS=0)', null)
    for (const t of s3?.targets ?? []) add(t.target, t.value, t.pass)
    alsoMeasured.push(...(s3?.also ?? []))
    const resume = durability.resume as { items: number; rewritten: number; killAfterConfirmed: number }
    add(
      'a restore SIGKILLed mid-way writes at most a few thousand items twice on resume',
      `${resume.rewritten} of ${resume.items} (killed after ${resume.killAfterConfirmed} confirmed)`,
      resume.rewritten <= 3000
    )
    const restoreS3 = durability.s3 as Record<string, number>
    add(
      `restore from S3 vs from local disk (${restoreS3.items} items, same run)`,
      `${restoreS3.s3VsLocal?.toFixed(2)}× (${restoreS3.s3Seconds?.toFixed(2)} vs ${restoreS3.localSeconds?.toFixed(2)} s)`,
      null
    )
    add(
      `peak RSS of the restore from S3 flat in N (${restoreS3.items} vs ${restoreS3.bigItems})`,
      `${restoreS3.peakRssMB?.toFixed(0)} MB vs ${restoreS3.bigPeakRssMB?.toFixed(0)} MB`,
      (restoreS3.bigPeakRssMB ?? Infinity) <= (restoreS3.peakRssMB ?? 0) * 1.15
    )
    const backup = durability.awsBackup as Record<string, number>
    add(
      `restore from the on-demand backup (temporary table) vs from local disk (${backup.items} items, moto)`,
      `${backup.onDemandVsLocal?.toFixed(2)}× (${backup.onDemandSeconds?.toFixed(2)} vs ${backup.localSeconds?.toFixed(2)} s)`,
      null
    )

    // ── print ──
    const header = ['run', 'items', 'seconds', 'items/s', 'peak RSS MB', 'CPU µs/item', 'lost', 'note']
    const table = rows.map(r => [
      r.name,
      String(r.items),
      r.seconds.toFixed(2),
      fmt(r.rate),
      fmt(r.peakRssMB),
      fmt(r.cpuUsPerItem, 1),
      r.lost === null ? '—' : String(r.lost),
      r.note
    ])
    const widths = header.map((h, i) => Math.max(h.length, ...table.map(t => (t[i] as string).length)))
    const line = (cells: string[]): string =>
      cells
        .map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
        .join('  ')
    console.log(`\n${line(header)}\n${widths.map(w => '─'.repeat(w)).join('  ')}`)
    for (const t of table) console.log(line(t))
    console.log('\nTargets')
    for (const t of targets)
      console.log(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.value}`)
    for (const m of alsoMeasured) console.log(`  also  ${m}`)
    const totalS = (Date.now() - started) / 1000
    console.log(
      `\nWhole bench: ${totalS.toFixed(0)} s; workers: ${workerKind}; load average ${loadavg()
        .map(l => l.toFixed(1))
        .join(
          ' '
        )} on ${cpus().length} cores (a shared machine: ratios of interleaved runs are more telling than absolute rates)`
    )

    Object.assign(results, {
      date: new Date().toISOString(),
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model,
        node: process.version,
        loadAverageAtEnd: loadavg()
      },
      workers: workerKind,
      config: {
        items: N,
        bigItems: BIG,
        shellItems: SHELL,
        rateWcu: RATE,
        rateItems: RATE_ITEMS,
        segments: SEGMENTS,
        avgItemBytes: avgSize
      },
      runs: rows.map(({ digest: _d, ...r }) => r),
      ratios: {
        restoreVsRaw: restoreRate / rawRate,
        exportVsRawScan: exportRate / rawScanRate,
        exportCpuPerItemVsRawWireScan: meanCpu(exports) / meanCpu(rawScansWire),
        rateLimitedVsAllowed: rateOurs.rate / RATE,
        restoreVsShell: shellRestore === null ? null : restoreRate / shellRestore.rate,
        restoreVsSequential: restoreRate / seqRestore.rate,
        exportVsSequentialBackup: exportRate / seqB.rate,
        exportWithS3CopyVsExportToDisk: s3?.ratio ?? null
      },
      durability,
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

await (ONLY === 's3' ? s3Only() : main())
// The server-side path against the runner path (bench/server-side.ts), after the engine's runs: it
// starts moto of its own. BENCH_SS=0 skips it; npm run bench:server-side runs it alone.
if (ONLY === '' && process.env.BENCH_SS !== '0') await benchServerSide()
