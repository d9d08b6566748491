/**
 * The run both entries make, the action (main.ts) and the CLI (cli/): inputs → clients → the
 * phase → the result, whether it fails, and the report's context. The entries only read their
 * inputs and show the result their own way (outputs, job summary and PR comment; or a terminal
 * report, JSON and an exit code), so both decide exactly alike.
 */
import type { RegionalClients } from '../aws/clients.js'
import { errorMessage, FileError, InputError, OperationError } from '../errors.js'
import { blockedMessage, blockedWarnings, failsStep, planBlocks } from '../plan/outcome.js'
import { keepReportForRestore, readEarlierReport } from '../report/earlier-report.js'
import type { ReportContext } from '../report/markdown.js'
import type { Clock, Inputs, Logger, RunResult } from '../types.js'
import { createRunClientPool, type RunClientOptions } from './clients.js'
import { owedAfterFailure, runPhase, type PhaseResult } from './run-phase.js'
import type { RunStop } from './stop.js'

export interface GuardDeps {
  logger: Logger
  clock: Clock
  /** How the entry tells the run to stop (its signal), and what the run registers to undo then. */
  stop?: RunStop
  /** Logs every AWS call (operation, table, duration) through logger.debug. */
  debugAwsCalls?: boolean
  /** Link to the workflow run, for the report (Actions only). */
  runUrl?: string
  /** GITHUB_WORKSPACE: the report names files relative to it. */
  workspace?: string
  /** This workflow run (run-record.ts currentRunId): ties a restore step to its pre-deploy step. */
  runId?: string
  /** Makes the run's clients, one set per region (default createRunClientPool; tests point them at an emulator). */
  createClients?: (opts: RunClientOptions) => RegionalClients & { destroy(): void }
}

export interface GuardRun {
  inputs: Inputs
  result: RunResult
  /** What the job summary, the PR comment and the CLI's report show. */
  report: ReportContext
  /** Why the run fails (the step's error, the CLI's exit code 1), or null when it does not. */
  failure: string | null
  /** The error that ended the run early, if one did (its stack is worth a debug line). */
  error?: unknown
}

/** The result of a run that an error ended before the phase could report its own. */
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

/** Whether an outcome fails the run, and with which message: the blocked tables, or the state left. */
export function failureOf(result: RunResult, inputs: Inputs): string | null {
  if (!failsStep(result.outcome, inputs, result.plan)) return null
  if (result.outcome === 'blocked' && result.plan && planBlocks(result.plan))
    return blockedMessage(result.plan)
  return `Outcome ${result.outcome}: ${result.stateNote ?? 'see the report.'}`
}

/** A blocked run that does not fail (report, dry-run): one warning per blocked table instead. */
function warnBlocked(result: RunResult, logger: Logger): void {
  if (result.outcome !== 'blocked') return
  const lines = result.plan ? blockedWarnings(result.plan) : []
  for (const line of lines) logger.warning(line)
  if (lines.length === 0) logger.warning(`Outcome blocked: ${result.stateNote ?? 'see the report.'}`)
}

/**
 * Runs the phase the inputs ask for. Bad input and unreadable files throw (InputError, FileError)
 * before any AWS call; anything else ends in a result (outcome failed, with the state it left).
 */
export async function runGuard(inputs: Inputs, deps: GuardDeps): Promise<GuardRun> {
  const { logger } = deps
  let phase: PhaseResult | undefined
  let result: RunResult
  let failure: string | null
  let error: unknown
  let clients: (RegionalClients & { destroy(): void }) | undefined
  try {
    clients = (deps.createClients ?? createRunClientPool)({
      region: inputs.awsRegion,
      ...(deps.debugAwsCalls === true ? { callLog: (line: string) => logger.debug(line) } : {})
    })
    phase = await runPhase(inputs, {
      clients,
      logger,
      clock: deps.clock,
      runId: deps.runId ?? '',
      ...(deps.stop ? { onStop: deps.stop, signal: deps.stop.signal } : {})
    })
    result = phase.result
    failure = failureOf(result, inputs)
    if (failure === null) warnBlocked(result, logger)
  } catch (err) {
    if (err instanceof InputError || err instanceof FileError) throw err
    result = failedResult(err)
    // A failed pre-deploy run still says which restores are owed (the sticky comment, restore-needed).
    if (clients && inputs.phase !== 'restore')
      result = { ...result, ...(await owedAfterFailure(inputs, { clients, logger, clock: deps.clock })) }
    failure = errorMessage(err)
    error = err
  } finally {
    clients?.destroy()
  }
  const report: ReportContext = {
    stage: inputs.stage,
    strategy: inputs.strategy,
    phase: inputs.phase,
    dryRun: inputs.dryRun,
    region: inputs.awsRegion,
    result,
    unresolved: phase?.unresolved,
    discoveryNotes: phase?.notes,
    warnings: phase?.warnings,
    importArtifacts: phase?.importArtifacts,
    ...(deps.runUrl !== undefined ? { runUrl: deps.runUrl } : {}),
    earlierReport: await readEarlierReport(inputs, logger),
    ...(deps.workspace !== undefined ? { workspace: deps.workspace } : {}),
    ...(phase?.artifact
      ? {
          artifact: {
            name: phase.artifact.name,
            ...(deps.runUrl !== undefined && phase.artifact.id !== null
              ? { url: `${deps.runUrl}/artifacts/${phase.artifact.id}` }
              : {}),
            files: phase.artifact.files,
            retentionDays: phase.artifact.retentionDays
          }
        }
      : {}),
    // Masked in the PR comment: the credentials' account, the protected ones, the template's.
    accountIds: [
      ...(phase?.identity ? [phase.identity.account] : []),
      ...inputs.protectedAccounts,
      ...(phase?.templateAccounts ?? [])
    ]
  }
  await keepReportForRestore(inputs, report, logger)
  return { inputs, result, report, failure, ...(error !== undefined ? { error } : {}) }
}
