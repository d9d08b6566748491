/**
 * The report's two destinations in Actions: the job summary (always) and the sticky PR comment
 * (when there is a pull request and a token). Failures here are warnings, never failures of the step.
 */
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

/**
 * Summary and sticky PR comment. Their failures are warnings, never failures of the step. (The
 * pre-deploy report is kept for the restore phase by the run itself: report/earlier-report.ts.)
 */
export async function publish(inputs: Inputs, report: ReportContext, logger: Logger): Promise<void> {
  await writeSummary(renderReport(report))
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
