/**
 * The pre-deploy report, kept in `backup-dir` next to the backups it took, so that the restore
 * phase (a later step, or a later CLI run) can show the whole story in one report. What is kept is
 * the report's data, not its markdown: the restore phase renders it (escaped) like any report, so
 * a file planted in the workspace cannot put markdown of its own into the PR comment.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../errors.js'
import type { Inputs, Logger } from '../types.js'
import type { ReportContext } from './markdown.js'

const FORMAT = 'dynamodb-orphan-guard/report@1'
const MAX_BYTES = 4 * 1024 * 1024

function earlierReportPath(inputs: Inputs): string {
  return join(inputs.backupDir, `pre-deploy-report-${inputs.stage}.json`)
}

/**
 * The kept pre-deploy report of this stage, in the restore phase (undefined otherwise, when none,
 * or when the file is not one: then with a warning).
 */
export async function readEarlierReport(inputs: Inputs, logger: Logger): Promise<ReportContext | undefined> {
  if (inputs.phase !== 'restore') return undefined
  const path = earlierReportPath(inputs)
  let text: string
  try {
    if ((await stat(path)).size > MAX_BYTES) throw new Error('too large')
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const saved = JSON.parse(text) as { format?: unknown; report?: ReportContext }
    const report = saved.report
    if (
      saved.format !== FORMAT ||
      !report ||
      report.stage !== inputs.stage ||
      report.phase !== 'pre-deploy' ||
      typeof report.result?.outcome !== 'string'
    )
      throw new Error(`not a ${FORMAT} of stage ${inputs.stage}`)
    return report
  } catch (err) {
    logger.warning(`The pre-deploy report ${path} is not shown: ${errorMessage(err)}`)
    return undefined
  }
}

/** Keeps the report of a pre-deploy run that took backups (its data); a failure is a warning. */
export async function keepReportForRestore(
  inputs: Inputs,
  report: ReportContext,
  logger: Logger
): Promise<void> {
  if (inputs.phase !== 'pre-deploy' || report.result.backupManifests.length === 0) return
  try {
    await writeFile(
      earlierReportPath(inputs),
      JSON.stringify({ format: FORMAT, report: { ...report, earlierReport: undefined } })
    )
  } catch (err) {
    logger.warning(`Could not keep the report for the restore step: ${errorMessage(err)}`)
  }
}
