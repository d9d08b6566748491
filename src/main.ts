import * as core from '@actions/core'
import { errorMessage, InputError, FileError } from './errors.js'
import { getInputs } from './inputs.js'
import { runGuard, type GuardRun } from './run/run-guard.js'
import { currentRunId } from './run/run-record.js'
import { RunStop } from './run/stop.js'
import { setOutputs } from './report/outputs.js'
import { publish, runUrl } from './report/publish.js'
import { systemClock, type Logger } from './types.js'

const logger: Logger = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  debug: message => core.debug(message),
  notice: message => core.notice(message),
  group: (name, fn) => core.group(name, fn)
}

/** How long a stopped run may take to end by itself: the runner kills the process 7.5 s after SIGINT. */
const STOP_UNDO_MS = 6_000

/**
 * A cancelled job gets SIGINT, then SIGTERM 7.5 s later, then is killed. The first signal asks the
 * run to stop at its next safe point (a restore writes its checkpoint, no further table starts,
 * nothing is deleted) and runs every undo still owed (a write fence comes down). When the run has
 * not ended by itself within STOP_UNDO_MS, the step fails and the process exits, before the runner
 * kills it. A SIGKILL leaves the undos; the next run that acts on the table does them.
 */
function stopOnSignals(stop: RunStop, ended: Promise<void>): () => void {
  let done = false
  void ended.then(() => (done = true))
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) return
    const undone = stop.request(signal, logger)
    const deadline = new Promise(resolve => setTimeout(resolve, STOP_UNDO_MS).unref())
    void Promise.race([Promise.all([undone, ended]), deadline]).then(() => {
      if (done) return
      core.setFailed(`Stopped by ${signal} before the run finished: see the log for what was done.`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/**
 * The action: read the inputs, run (run/run-guard.ts, the core the CLI shares), then set the
 * outputs, fail the step when the run fails, and report. The only place that calls setFailed.
 * Bad input fails before any AWS call and reports nothing; the summary is written in `finally`
 * whenever the inputs were valid.
 */
export async function run(): Promise<void> {
  let guard: GuardRun | undefined
  let end: () => void = () => undefined
  const ended = new Promise<void>(resolve => (end = resolve))
  const stop = new RunStop()
  const dispose = stopOnSignals(stop, ended)
  try {
    const inputs = getInputs(name => core.getInput(name), {
      workspace: process.env.GITHUB_WORKSPACE,
      cwd: process.cwd(),
      awsRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
    })
    guard = await runGuard(inputs, {
      logger,
      clock: systemClock,
      stop,
      debugAwsCalls: core.isDebug(),
      runUrl: runUrl(),
      ...(process.env.GITHUB_WORKSPACE ? { workspace: process.env.GITHUB_WORKSPACE } : {}),
      runId: currentRunId(process.env)
    })
    setOutputs(guard.result)
    if (guard.failure !== null) core.setFailed(guard.failure)
    if (guard.error instanceof Error && guard.error.stack) core.debug(guard.error.stack)
  } catch (err) {
    // Bad input or an unreadable file (InputError, FileError): nothing was called on AWS.
    core.setFailed(errorMessage(err))
    if (err instanceof Error && err.stack && !(err instanceof InputError || err instanceof FileError)) {
      core.debug(err.stack)
    }
  } finally {
    const done = guard
    if (done) {
      // Reporting never fails the step: any error here is a warning.
      await core
        .group('Report', () => publish(done.inputs, done.report, logger))
        .catch((err: unknown) => core.warning(`Could not write the report: ${errorMessage(err)}`))
    }
    dispose()
    end()
  }
}
