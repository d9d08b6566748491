/**
 * The report's two destinations: the job summary (always) and the sticky PR comment (when there is
 * a pull request and a token). Failures here are warnings, never failures of the step.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as github from '@actions/github'
import { errorMessage } from '../errors.js'
import type { Inputs, Logger } from '../types.js'
import { resolvePrNumber, upsertStickyComment } from './comment.js'
import { commentMarker, renderComment, renderReport, type ReportContext } from './markdown.js'
import { writeSummary } from './summary.js'

/** Link to this workflow run, whose job summary holds the full report. */
export function runUrl(): string | undefined {
  const { serverUrl, runId } = github.context
  const repo = process.env.GITHUB_REPOSITORY
  return repo && runId ? `${serverUrl}/${repo}/actions/runs/${runId}` : undefined
}

/** Where the pre-deploy report is kept for the restore phase's comment (the whole story in one place). */
function earlierReportPath(inputs: Inputs): string {
  return join(inputs.backupDir, `pre-deploy-report-${inputs.stage}.md`)
}

export async function readEarlierReport(inputs: Inputs): Promise<string | undefined> {
  if (inputs.phase !== 'restore') return undefined
  try {
    return await readFile(earlierReportPath(inputs), 'utf8')
  } catch {
    return undefined
  }
}

/** Summary and sticky PR comment. Their failures are warnings, never failures of the step. */
export async function publish(inputs: Inputs, report: ReportContext, logger: Logger): Promise<void> {
  const markdown = renderReport(report)
  await writeSummary(markdown)
  if (inputs.phase === 'pre-deploy' && report.result.backupManifests.length > 0) {
    try {
      await writeFile(earlierReportPath(inputs), markdown)
    } catch (err) {
      logger.warning(`Could not keep the report for the restore step: ${errorMessage(err)}`)
    }
  }
  if (!inputs.comment) return
  if (inputs.githubToken === '') {
    logger.info('No github-token: PR comment skipped.')
    return
  }
  try {
    const issueNumber = resolvePrNumber(github.context, inputs.prNumber)
    if (issueNumber === null) {
      logger.info(
        'No pull request for this run (not a pull request event and no pr-number input): PR comment skipped.'
      )
      return
    }
    const { owner, repo } = github.context.repo
    await upsertStickyComment(github.getOctokit(inputs.githubToken), {
      owner,
      repo,
      issueNumber,
      marker: commentMarker(inputs.stage),
      body: renderComment(report),
      logger
    })
  } catch (err) {
    // upsertStickyComment never throws; this catches what comes before it (e.g. no GITHUB_REPOSITORY).
    logger.warning(
      `Could not write the PR comment: ${errorMessage(err)}. The job summary has the full report.`
    )
  }
}
