/**
 * Preflight speed: how long the read-only check of 10 named tables takes against moto, measured
 * two ways in the same run: in-process (checkTables: discover → inspect → compare → plan) and the
 * whole committed bundle in report mode (process start to exit, as the runner runs it).
 * Target: under 2 s for 10 tables, so the check adds nothing a deploy job would notice (README, "Data
 * engine", states the last figures).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startMoto } from '../test-support/moto.js'
import { destroyClients, oneRegion, testClients } from '../test-support/aws-clients.js'
import {
  makeRetainedOrphan,
  makeUnmanagedTable,
  mergeTemplates,
  sampleItems,
  tableTemplate
} from '../test-support/orphans.js'
import { runBundle } from '../test-support/run-bundle.js'
import { checkTables } from '../src/run/check-tables.js'
import { getInputs } from '../src/inputs.js'

export interface PreflightResult {
  tables: number
  inProcessMs: number[]
  bundleMs: number[]
  medianInProcessMs: number
  medianBundleMs: number
  targetMs: number
  pass: boolean
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

export async function benchPreflight(tables = 10, runs = 3): Promise<PreflightResult> {
  const moto = await startMoto()
  const clients = testClients(moto.endpoint)
  const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-preflight-'))
  try {
    const names = Array.from({ length: tables }, (_, i) => `pr-5-table-${i}`)
    const template = mergeTemplates(
      ...names.map((tableName, i) =>
        tableTemplate({ tableName, logicalId: `Table${i}`, deletionPolicy: 'Retain' })
      )
    )
    writeFileSync(join(dir, 'template.json'), JSON.stringify(template))
    // A realistic mix: half retained orphans with data, a quarter unmanaged, the rest missing.
    for (const [i, tableName] of names.entries()) {
      if (i % 2 === 0) {
        await makeRetainedOrphan(clients, { stackName: `old-stack-${i}`, tableName, items: sampleItems(20) })
      } else if (i % 4 === 1) {
        await makeUnmanagedTable(clients.dynamodb, { tableName })
      }
    }
    const inputs = { stage: 'pr-5', template: 'template.json', 'stack-name': 'pr-5-db', strategy: 'report' }
    const logger = { info: () => {}, warning: () => {}, debug: () => {} }
    const inProcessMs: number[] = []
    const bundleMs: number[] = []
    for (let r = 0; r < runs; r++) {
      const parsed = getInputs(n => (inputs as Record<string, string>)[n] ?? '', {
        cwd: dir,
        awsRegion: 'us-east-1'
      })
      const t0 = performance.now()
      const check = await checkTables(parsed, oneRegion(clients), logger)
      inProcessMs.push(performance.now() - t0)
      if (check.plan.entries.length !== tables) throw new Error(`planned ${check.plan.entries.length} tables`)

      const t1 = performance.now()
      const run = await runBundle({
        inputs: { ...inputs, comment: 'false' },
        awsEndpoint: moto.endpoint,
        workspace: dir
      })
      bundleMs.push(performance.now() - t1)
      if (run.code !== 0) throw new Error(`bundle failed: ${run.stdout}`)
    }
    const result: PreflightResult = {
      tables,
      inProcessMs,
      bundleMs,
      medianInProcessMs: median(inProcessMs),
      medianBundleMs: median(bundleMs),
      targetMs: 2000,
      pass: median(bundleMs) < 2000
    }
    return result
  } finally {
    destroyClients(clients)
    await moto.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchPreflight()
  console.log(
    `preflight of ${r.tables} tables against moto: in-process median ${r.medianInProcessMs.toFixed(0)} ms, ` +
      `whole bundle (process start to exit) median ${r.medianBundleMs.toFixed(0)} ms; target < ${r.targetMs} ms: ${r.pass ? 'PASS' : 'FAIL'}`
  )
}
