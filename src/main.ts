import * as core from '@actions/core'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as github from '@actions/github'
import { createRunClients } from './run/clients.js'
import { errorMessage, InputError, FileError, OperationError } from './errors.js'
import { getInputs } from './inputs.js'
import { runPhase, type PhaseResult } from './run/run-phase.js'
import { blockedEntries, blockedMessage, failsStep } from './plan/outcome.js'
import { commentMarker, renderComment, renderReport, type ReportContext } from './report/markdown.js'
import { upsertStickyComment, resolvePrNumber } from './report/comment.js'
import { setOutputs } from './report/outputs.js'
import { writeSummary } from './report/summary.js'
import { systemClock, type Inputs, type Logger, type RunResult } from './types.js'

const logger: Logger = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  debug: message => core.debug(message),
  notice: message => core.notice(message)
}

function runUrl(): string | undefined {
  const { serverUrl, runId } = github.context
  const repo = process.env.GITHUB_REPOSITORY
  return repo && runId ? `${serverUrl}/${repo}/actions/runs/${runId}` : undefined
}

function failedResult(err: unknown): RunResult {
  return {
    outcome: 'failed',
    plan: null,
    steps: [],
    backupManifests: [],
    backupArns: [],
    restoredItems: 0,
    stateNote: err instanceof OperationError ? err.state : undefined
  }
}

/** Where the pre-deploy report is kept for the restore phase's comment (the whole story in one place). */
function earlierReportPath(inputs: Inputs): string {
  return join(inputs.backupDir, `pre-deploy-report-${inputs.stage}.md`)
}

async function readEarlierReport(inputs: Inputs): Promise<string | undefined> {
  if (inputs.phase !== 'restore') return undefined
  try {
    return await readFile(earlierReportPath(inputs), 'utf8')
  } catch {
    return undefined
  }
}

/** Summary and sticky PR comment. Their failures are warnings, never failures of the step. */
async function publish(inputs: Inputs, report: ReportContext): Promise<void> {
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

/**
 * The action: read inputs, run the phase, then report. The only place that calls setFailed.
 * Bad input fails before any AWS call; the summary is written in `finally` whenever inputs were valid.
 */
export async function run(): Promise<void> {
  let inputs: Inputs | undefined
  let phase: PhaseResult | undefined
  let result: RunResult | undefined
  try {
    inputs = getInputs(name => core.getInput(name), {
      workspace: process.env.GITHUB_WORKSPACE,
      cwd: process.cwd(),
      awsRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
    })
    const clients = createRunClients({ region: inputs.awsRegion })
    try {
      phase = await runPhase(inputs, { clients, logger, clock: systemClock })
      result = phase.result
    } finally {
      clients.dynamodb.destroy()
      clients.cloudformation.destroy()
    }
    setOutputs(result)
    if (failsStep(result.outcome, inputs.strategy)) {
      core.setFailed(
        result.outcome === 'blocked' && result.plan && blockedEntries(result.plan).length > 0
          ? blockedMessage(result.plan)
          : `Outcome ${result.outcome}: ${result.stateNote ?? 'see the job summary.'}`
      )
    }
  } catch (err) {
    if (inputs && !(err instanceof InputError) && !(err instanceof FileError)) {
      result = failedResult(err)
      setOutputs(result)
    }
    core.setFailed(errorMessage(err))
    if (err instanceof Error && err.stack && !(err instanceof InputError || err instanceof FileError)) {
      core.debug(err.stack)
    }
  } finally {
    if (inputs && result) {
      // Reporting never fails the step: any error here is a warning.
      await publish(inputs, {
        stage: inputs.stage,
        strategy: inputs.strategy,
        phase: inputs.phase,
        dryRun: inputs.dryRun,
        region: inputs.awsRegion,
        result,
        unresolved: phase?.unresolved,
        discoveryNotes: phase?.notes,
        importArtifacts: phase?.importArtifacts,
        runUrl: runUrl(),
        earlierReport: await readEarlierReport(inputs)
      }).catch((err: unknown) => core.warning(`Could not write the report: ${errorMessage(err)}`))
    }
  }
}
