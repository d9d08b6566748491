import { existsSync, statSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { AwsClients } from '../aws/clients.js'
import { MANIFEST_FILE, readManifest, writeFileAtomic, type BackupManifest } from '../data/manifest.js'
import { restoreTable } from '../data/restore.js'
import { verifyTable } from '../data/verify.js'
import { errorMessage, InputError, OperationError } from '../errors.js'
import type { Logger, RunResult } from '../types.js'
import { StepLog } from './steps.js'

/** Written next to a manifest once its restore is verified, so a re-run does not restore twice. */
export const RESTORED_MARKER = 'restored.json'

export interface FoundBackup {
  table: string
  manifestPath: string
  manifest: BackupManifest
}

async function manifestsUnder(dir: string, depth: number): Promise<string[]> {
  const direct = join(dir, MANIFEST_FILE)
  if (existsSync(direct)) return [direct]
  if (depth === 0) return []
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return []
  }
  const nested = await Promise.all(
    entries.filter(e => e.isDirectory()).map(e => manifestsUnder(join(dir, e.name), depth - 1))
  )
  return nested.flat()
}

/**
 * The newest backup of each table under `backupDir` (layout `<table>/<timestamp>/manifest.json`),
 * or the one manifest `backupDir` names (a manifest.json file or its folder). `tables`, when
 * given, restricts the result to those table names.
 */
export async function findNewestBackups(backupDir: string, tables: string[] | null): Promise<FoundBackup[]> {
  const paths =
    existsSync(backupDir) && statSync(backupDir).isFile() ? [backupDir] : await manifestsUnder(backupDir, 2)
  const newest = new Map<string, FoundBackup>()
  for (const manifestPath of paths) {
    const manifest = await readManifest(manifestPath)
    const table = manifest.table.name
    if (tables !== null && !tables.includes(table)) continue
    const current = newest.get(table)
    if (!current || manifest.finishedAt > current.manifest.finishedAt)
      newest.set(table, { table, manifestPath, manifest })
  }
  return [...newest.values()].sort((a, b) => a.table.localeCompare(b.table))
}

async function restoredBefore(manifestPath: string): Promise<string | null> {
  try {
    const marker = JSON.parse(await readFile(join(dirname(manifestPath), RESTORED_MARKER), 'utf8')) as {
      restoredAt?: string
    }
    return marker.restoredAt ?? 'earlier'
  } catch {
    return null
  }
}

export interface RestorePhaseInput {
  backupDir: string
  /** Tables of this stage (from the template or the tables input); null = every backup found. */
  tables: string[] | null
  dryRun: boolean
  logger: Logger
  now: () => number
}

/**
 * phase: restore. For each table with a backup: restore into the table the deploy created
 * (the engine checks it exists, is ACTIVE, accepts the keys and is empty; it resumes from its
 * checkpoint after an interruption), then verify count and content digest against the manifest.
 */
export async function restorePhase(clients: AwsClients, input: RestorePhaseInput): Promise<RunResult> {
  const { logger } = input
  const steps = new StepLog(message => logger.info(message))
  const result: RunResult = {
    outcome: 'nothing-to-do',
    plan: null,
    steps: steps.steps,
    backupManifests: [],
    backupArns: [],
    restoredItems: 0
  }
  const failed = (err: unknown, where: string): RunResult => {
    steps.failed(where, 'restore', errorMessage(err))
    return {
      ...result,
      outcome: 'failed',
      stateNote: `${errorMessage(err)} Nothing was written. Fix or remove the file named above, then run phase: restore again.`
    }
  }
  if (isLegacyFile(input.backupDir)) return restoreLegacy(clients, input, steps, result)
  let backups: FoundBackup[]
  try {
    backups = await findNewestBackups(input.backupDir, input.tables)
  } catch (err) {
    return failed(err, '(backups)')
  }
  if (backups.length === 0) {
    logger.info(`No backup manifests under ${input.backupDir}: nothing to restore.`)
    return result
  }

  let restored = 0
  for (const [index, { table, manifestPath, manifest }] of backups.entries()) {
    result.backupManifests.push(manifestPath)
    const source = `${manifest.itemCount} items exported ${manifest.finishedAt} (${basename(dirname(manifestPath))})`
    const already = await restoredBefore(manifestPath)
    if (already !== null) {
      steps.skipped(table, 'restore', `already restored and verified at ${already} from ${manifestPath}`)
      continue
    }
    if (input.dryRun) {
      steps.planned(
        table,
        'restore',
        `BatchWriteItem ${source} from ${manifestPath} into ${table}, then verify`
      )
      continue
    }
    try {
      const report = await restoreTable(clients.dynamodb, { manifestPath, table, logger })
      steps.done(
        table,
        'restore',
        `${report.itemsTotal} items from ${manifestPath}${report.resumed ? ` (resumed: ${report.itemsSkipped} were already written by an earlier run)` : ''}`
      )
      await verifyTable(clients.dynamodb, { table, expected: report.expected, logger })
      steps.done(table, 'verify', `${report.expected.itemCount} items, content digest equal to the backup's`)
      await writeFileAtomic(
        join(dirname(manifestPath), RESTORED_MARKER),
        `${JSON.stringify({ table, restoredAt: new Date(input.now()).toISOString(), items: report.itemsTotal }, null, 2)}\n`
      )
      restored += report.itemsTotal
      result.restoredItems = restored
    } catch (err) {
      const state = err instanceof OperationError ? err.state : ''
      steps.failed(table, 'restore', errorMessage(err))
      const rest = backups.slice(index + 1).map(b => b.table)
      for (const other of rest) steps.skipped(other, 'restore', `not started: ${table} failed first`)
      const notStarted = rest.length > 0 ? ` Not restored yet: ${rest.join(', ')}.` : ''
      return {
        ...result,
        outcome: 'failed',
        stateNote:
          `${errorMessage(err)} ${state} The backup ${manifestPath} is intact; running phase: restore again resumes from its checkpoint.${notStarted}`.trim()
      }
    }
  }
  const acted = steps.steps.some(s => s.status === 'done' || s.status === 'planned')
  return { ...result, outcome: input.dryRun && acted ? 'dry-run' : acted ? 'restored' : 'nothing-to-do' }
}

/** A `{"Items":[...]}` file written by `aws dynamodb scan` (today's scripts), given as backup-dir. */
export function isLegacyFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile() && basename(path) !== MANIFEST_FILE
}

async function restoreLegacy(
  clients: AwsClients,
  input: RestorePhaseInput,
  steps: StepLog,
  result: RunResult
): Promise<RunResult> {
  const file = input.backupDir
  const target = input.tables?.length === 1 ? input.tables[0] : undefined
  if (target === undefined) {
    throw new InputError(
      'tables',
      `backup-dir ${file} is a single scan output file ({"Items":[...]}): name exactly one target table in tables`
    )
  }
  if (input.dryRun) {
    steps.planned(target, 'restore', `BatchWriteItem the items of ${file} into ${target}, then verify`)
    return { ...result, outcome: 'dry-run' }
  }
  try {
    const report = await restoreTable(clients.dynamodb, {
      legacyFile: file,
      table: target,
      logger: input.logger
    })
    steps.done(
      target,
      'restore',
      `${report.itemsTotal} items from ${file}${report.resumed ? ' (resumed)' : ''}`
    )
    await verifyTable(clients.dynamodb, { table: target, expected: report.expected, logger: input.logger })
    steps.done(target, 'verify', `${report.expected.itemCount} items, content digest equal to the file's`)
    return { ...result, outcome: 'restored', restoredItems: report.itemsTotal }
  } catch (err) {
    steps.failed(target, 'restore', errorMessage(err))
    const state = err instanceof OperationError ? err.state : ''
    return {
      ...result,
      outcome: 'failed',
      stateNote:
        `${errorMessage(err)} ${state} The file ${file} is untouched; running phase: restore again resumes from its checkpoint.`.trim()
    }
  }
}
