import * as core from '@actions/core'
import { createRunClientPool } from './run/clients.js'
import { errorMessage, InputError, FileError, OperationError } from './errors.js'
import { getInputs } from './inputs.js'
import { runPhase, type PhaseResult } from './run/run-phase.js'
import { blockedMessage, blockedWarnings, failsStep, planBlocks } from './plan/outcome.js'
import { setOutputs } from './report/outputs.js'
import { publish, readEarlierReport, runUrl } from './report/publish.js'
import { systemClock, type Inputs, type Logger, type RunResult, type StopHooks } from './types.js'

const logger: Logger = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  debug: message => core.debug(message),
  notice: message => core.notice(message)
}

/** How long the undo of a stop may take: the runner kills the process 7.5 s after SIGINT on cancel. */
const STOP_UNDO_MS = 6_000

/**
 * What to undo if the runner stops the action (a cancelled job: SIGINT, then SIGTERM): the write
 * fences still up. On the first signal every registered undo runs (at most STOP_UNDO_MS), then the
 * process exits. A SIGKILL leaves them; the next run that acts on the table removes them.
 */
function stopOnSignals(): StopHooks & { dispose(): void } {
  const hooks = new Map<number, { name: string; undo: () => Promise<void> }>()
  let next = 0
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    const pending = [...hooks.values()]
    core.warning(
      `Stopped by ${signal}${pending.length > 0 ? `; undoing: ${pending.map(h => h.name).join(', ')}` : ''}.`
    )
    const undoAll = Promise.allSettled(
      pending.map(h =>
        h.undo().then(
          () => core.info(`Undone: ${h.name}.`),
          (err: unknown) => core.error(`Could not undo ${h.name}: ${errorMessage(err)}`)
        )
      )
    )
    const timeout = new Promise(resolve => setTimeout(resolve, STOP_UNDO_MS).unref())
    void Promise.race([undoAll, timeout]).finally(() => {
      core.setFailed(`Stopped by ${signal} before the run finished: see the log for what was done.`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    add(name, undo) {
      const id = next++
      hooks.set(id, { name, undo })
      return () => hooks.delete(id)
    },
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
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
    const clients = createRunClientPool({ region: inputs.awsRegion })
    const stop = stopOnSignals()
    try {
      phase = await runPhase(inputs, { clients, logger, clock: systemClock, onStop: stop })
      result = phase.result
    } finally {
      stop.dispose()
      clients.destroy()
    }
    setOutputs(result)
    if (failsStep(result.outcome, inputs, result.plan)) {
      core.setFailed(
        result.outcome === 'blocked' && result.plan && planBlocks(result.plan)
          ? blockedMessage(result.plan)
          : `Outcome ${result.outcome}: ${result.stateNote ?? 'see the job summary.'}`
      )
    } else if (result.outcome === 'blocked') {
      // Report and dry-run do not fail on a plan: each blocked table is a warning annotation instead.
      const lines = result.plan ? blockedWarnings(result.plan) : []
      for (const line of lines) core.warning(line)
      if (lines.length === 0) core.warning(`Outcome blocked: ${result.stateNote ?? 'see the job summary.'}`)
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
      await publish(
        inputs,
        {
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
          runUrl: runUrl(),
          earlierReport: await readEarlierReport(inputs)
        },
        logger
      ).catch((err: unknown) => core.warning(`Could not write the report: ${errorMessage(err)}`))
    }
  }
}
