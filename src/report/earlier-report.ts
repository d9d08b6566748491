/**
 * The pre-deploy report, kept in `backup-dir` next to the backups it took, so that the restore
 * phase (a later step, or a later CLI run) can show the whole story in one report.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../errors.js'
import type { Inputs, Logger } from '../types.js'
import { renderReport, type ReportContext } from './markdown.js'

function earlierReportPath(inputs: Inputs): string {
  return join(inputs.backupDir, `pre-deploy-report-${inputs.stage}.md`)
}

/** The kept pre-deploy report of this stage, in the restore phase (undefined otherwise or when none). */
export async function readEarlierReport(inputs: Inputs): Promise<string | undefined> {
  if (inputs.phase !== 'restore') return undefined
  try {
    return await readFile(earlierReportPath(inputs), 'utf8')
  } catch {
    return undefined
  }
}

/** Keeps the report of a pre-deploy run that took backups (as the job summary shows it); a failure is a warning. */
export async function keepReportForRestore(
  inputs: Inputs,
  report: ReportContext,
  logger: Logger
): Promise<void> {
  if (inputs.phase !== 'pre-deploy' || report.result.backupManifests.length === 0) return
  try {
    await writeFile(earlierReportPath(inputs), renderReport(report))
  } catch (err) {
    logger.warning(`Could not keep the report for the restore step: ${errorMessage(err)}`)
  }
}
