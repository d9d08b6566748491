import { existsSync, statSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { RegionalClients } from '../aws/clients.js'
import { describeTableOrNull } from '../aws/dynamodb-read.js'
import { removeLeftoverFence } from './write-fence.js'
import { MANIFEST_FILE, readManifest, writeFileAtomic, type BackupManifest } from '../data/manifest.js'
import { restoreTable } from '../data/restore.js'
import { verifyTable } from '../data/verify.js'
import { errorMessage, InputError, Interrupted, OperationError } from '../errors.js'
import { inGroup, type Clock, type Logger, type RunResult } from '../types.js'
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

export interface RestoreBackupsInput {
  backupDir: string
  /** Tables of this stage (from the template or the tables input); null = every backup found. */
  tables: string[] | null
  dryRun: boolean
  logger: Logger
  clock: Clock
  /** Stops the copy at its next batch, checkpoint written (a later run resumes); no next table starts. */
  signal?: AbortSignal
}

/**
 * phase: restore. For each table with a backup: restore into the table the deploy created
 * (the engine checks it exists, is ACTIVE, accepts the keys and is empty; it resumes from its
 * checkpoint after an interruption), then verify count and content digest against the manifest.
 */
export async function restoreBackups(
  clients: RegionalClients,
  input: RestoreBackupsInput
): Promise<RunResult> {
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
  let jobs: RestoreJob[]
  try {
    jobs = isLegacyFile(input.backupDir) ? [legacyJob(input)] : await manifestJobs(input)
  } catch (err) {
    if (err instanceof InputError) throw err
    steps.failed('(backups)', 'restore', errorMessage(err))
    return {
      ...result,
      outcome: 'failed',
      stateNote: `${errorMessage(err)} Nothing was written. Fix or remove the file named above, then run phase: restore again.`
    }
  }
  if (jobs.length === 0) {
    logger.info(`No backup manifests under ${input.backupDir}: nothing to restore.`)
    return result
  }

  for (const [index, job] of jobs.entries()) {
    const { table, path } = job
    if (job.manifestPath) result.backupManifests.push(job.manifestPath)
    const already = job.manifestPath ? await restoredBefore(job.manifestPath) : null
    if (already !== null) {
      steps.skipped(table, 'restore', `already restored and verified at ${already} from ${path}`)
      continue
    }
    if (input.dryRun) {
      steps.planned(table, 'restore', `BatchWriteItem ${job.what} from ${path} into ${table}, then verify`)
      continue
    }
    try {
      if (input.signal?.aborted === true)
        throw new Interrupted(`Interrupted before restoring ${table}`, 'nothing was written into it')
      await inGroup(logger, `Restore ${table}`, async () => {
        // A table is restored in the region it was exported from (the manifest says which), where
        // the deploy re-created it; a legacy scan file goes to the action's region.
        const { dynamodb } = clients.forRegion(job.region ?? clients.defaultRegion)
        // The table the deploy created may carry the write fence put on the table this run's
        // pre-deploy step deleted (an endpoint may keep a resource policy across delete and
        // re-create under the same name; moto does): writes to it would be denied. Take it down.
        const targetArn = (await describeTableOrNull(dynamodb, table))?.TableArn
        if (targetArn && (await removeLeftoverFence(dynamodb, { name: table, arn: targetArn }, input.clock)))
          steps.done(
            table,
            'write fence removed',
            'the new table carried the write fence of the table it replaces'
          )
        const source = job.manifestPath ? { manifestPath: job.manifestPath } : { legacyFile: path }
        const report = await restoreTable(dynamodb, {
          ...source,
          table,
          logger,
          clock: input.clock,
          signal: input.signal
        })
        const resumed = report.resumed
          ? ` (resumed: ${report.itemsSkipped} were already written by an earlier run)`
          : ''
        steps.done(table, 'restore', `${report.itemsTotal} items from ${path}${resumed}`)
        // With TTL on, the restored table is split by the export's window: items may expire again.
        const ttl = job.manifestPath ? (await readManifest(job.manifestPath)).ttl : undefined
        const verified = await verifyTable(dynamodb, {
          table,
          expected: report.expected,
          logger,
          clock: input.clock,
          signal: input.signal,
          ...(ttl ? { ttl } : {})
        })
        steps.done(
          table,
          'verify',
          verified.ttlNote
            ? `${verified.ttl?.alive.itemCount ?? 0} items alive past the TTL cutoff, content digest equal to the backup's; ${verified.ttlNote}`
            : `${report.expected.itemCount} items, content digest equal to the backup's`
        )
        if (job.manifestPath) {
          await writeFileAtomic(
            join(dirname(job.manifestPath), RESTORED_MARKER),
            `${JSON.stringify({ table, restoredAt: new Date(input.clock.now()).toISOString(), items: report.itemsTotal }, null, 2)}\n`
          )
        }
        result.restoredItems += report.itemsTotal
      })
    } catch (err) {
      const state = err instanceof OperationError ? err.state : ''
      steps.failed(table, err instanceof Interrupted ? 'interrupted' : 'restore', errorMessage(err))
      const rest = jobs.slice(index + 1).map(j => j.table)
      const why = err instanceof Interrupted ? 'the run was interrupted' : `${table} failed first`
      for (const other of rest) steps.skipped(other, 'restore', `not started: ${why}`)
      const notStarted = rest.length > 0 ? ` Not restored yet: ${rest.join(', ')}.` : ''
      return {
        ...result,
        outcome: 'failed',
        stateNote:
          `${errorMessage(err)} ${state} The backup ${path} is intact; running phase: restore again resumes from its checkpoint.${notStarted}`.trim()
      }
    }
  }
  const acted = steps.steps.some(s => s.status === 'done' || s.status === 'planned')
  return { ...result, outcome: input.dryRun && acted ? 'dry-run' : acted ? 'restored' : 'nothing-to-do' }
}

/** One table to load: from one of our manifests, or from an old `aws dynamodb scan` file. */
interface RestoreJob {
  table: string
  /** The manifest or the legacy file. */
  path: string
  /** Set for our backups (restored.json goes next to it); absent for a legacy file. */
  manifestPath?: string
  /** What is loaded, for the dry-run line. */
  what: string
  /** The region the backup was taken in (absent for a legacy file). */
  region?: string
}

async function manifestJobs(input: RestoreBackupsInput): Promise<RestoreJob[]> {
  const backups = await findNewestBackups(input.backupDir, input.tables)
  return backups.map(({ table, manifestPath, manifest }) => ({
    table,
    path: manifestPath,
    manifestPath,
    what: `${manifest.itemCount} items exported ${manifest.finishedAt} (${basename(dirname(manifestPath))})`,
    ...(manifest.table.region ? { region: manifest.table.region } : {})
  }))
}

function legacyJob(input: RestoreBackupsInput): RestoreJob {
  const file = input.backupDir
  const table = input.tables?.length === 1 ? input.tables[0] : undefined
  if (table === undefined) {
    throw new InputError(
      'tables',
      `backup-dir ${file} is a single scan output file ({"Items":[...]}): name exactly one target table in tables`
    )
  }
  return { table, path: file, what: 'the items of the scan output file' }
}

/** A `{"Items":[...]}` file written by `aws dynamodb scan` (today's scripts), given as backup-dir. */
export function isLegacyFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile() && basename(path) !== MANIFEST_FILE
}
