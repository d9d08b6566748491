/**
 * The CLI: the action's run (run/run-guard.ts) from a laptop or another CI. Flags are the action's
 * inputs; the report goes to stdout (for a terminal, or as JSON with --json), the log and progress
 * to stderr; the exit code says how it went (0 fine, 1 blocked or failed, 2 bad input, 130
 * interrupted).
 */
import { configuredRegion } from '../aws/clients.js'
import { TOOL_NAME, TOOL_VERSION } from '../data/manifest.js'
import { errorMessage, FileError, InputError } from '../errors.js'
import { getInputs, INPUTS, type InputDefinition } from '../inputs.js'
import { renderReport } from '../report/markdown.js'
import { buildOutputsWithNotes } from '../report/outputs.js'
import { runGuard, type GuardDeps, type GuardRun } from '../run/run-guard.js'
import { RunStop } from '../run/stop.js'
import { systemClock, type Clock, type Inputs, type RunResult } from '../types.js'
import { consoleLogger, Screen, type Output } from './console.js'
import { helpText, parseArgs, UsageError, type ParsedArgs } from './flags.js'
import { paint, renderForTerminal } from './terminal.js'

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

export interface CliIo {
  stdout: Output
  stderr: Output
  env: NodeJS.ProcessEnv
  cwd: string
  /** Calls `handler` on Ctrl-C (SIGINT); returns what stops listening. */
  onInterrupt?: (handler: () => void) => () => void
  clock?: Clock
  /** The run's clients (tests point them at an emulator); default: the SDK's, from the environment. */
  createClients?: GuardDeps['createClients']
}

/** NO_COLOR (https://no-color.org): set to anything but the empty string turns colour off. */
function colourAllowed(env: NodeJS.ProcessEnv): boolean {
  return (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb'
}

/** Every output of the action, with JSON values where the action's output is JSON text. */
export function jsonOutputs(result: RunResult): Record<string, unknown> {
  // No 1 MB limit here: that is GitHub's limit for a step output, not the CLI's.
  const { outputs } = buildOutputsWithNotes(result, Number.POSITIVE_INFINITY)
  return Object.fromEntries(
    Object.entries(outputs).map(([name, text]) => {
      try {
        return [name, JSON.parse(text) as unknown]
      } catch {
        return [name, text]
      }
    })
  )
}

function usageFailure(io: CliIo, err: unknown, color: boolean): number {
  const style = { color }
  let message = errorMessage(err)
  // An input is a flag here: say `--stage`, not `Input 'stage'`.
  if (err instanceof InputError) message = `--${err.input}: ${message.replace(/^Input '[^']+': /, '')}`
  io.stderr.write(`${paint(style, 'red', 'error:')} ${message}\n`)
  if (err instanceof UsageError || err instanceof InputError)
    io.stderr.write(`Run ${TOOL_NAME} --help for the flags.\n`)
  return EXIT.usage
}

async function inputsOf(args: ParsedArgs, io: CliIo): Promise<Inputs> {
  const region =
    args.inputs['aws-region'] || io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || (await configuredRegion())
  const env = { cwd: io.cwd, awsRegion: region }
  // Every flag is checked as the action checks its input (a bad --pr-number is still exit 2)…
  getInputs(name => args.inputs[name] ?? '', env)
  // …but the inputs only the action uses (PR comment, artifact) keep their defaults in the run.
  const table = INPUTS as Record<string, InputDefinition>
  return getInputs(name => (table[name]?.actionOnly === true ? '' : (args.inputs[name] ?? '')), env)
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const errColour = io.stderr.isTTY === true && colourAllowed(io.env)
  const outColour = io.stdout.isTTY === true && colourAllowed(io.env)
  let args: ParsedArgs
  try {
    args = parseArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, err, errColour)
    throw err
  }
  if (args.options.help) {
    io.stdout.write(helpText(undefined, Math.min(io.stdout.columns ?? 100, 100)))
    return EXIT.ok
  }
  if (args.options.version) {
    io.stdout.write(`${TOOL_NAME} ${TOOL_VERSION} (node ${process.version})\n`)
    return EXIT.ok
  }

  const bars = io.stderr.isTTY === true && io.env.TERM !== 'dumb'
  const screen = new Screen(io.stderr, {
    color: errColour,
    bars,
    width: () => io.stderr.columns ?? 80
  })
  const logger = consoleLogger(screen, {
    color: errColour,
    debug: args.options.debug,
    bars,
    progressIntervalMs: args.options.progressIntervalMs
  })
  for (const name of args.ignored)
    logger.warning(`--${name} is used by the GitHub Action only: the CLI ignores it.`)
  if (args.options.profile !== undefined) io.env.AWS_PROFILE = args.options.profile

  let inputs: Inputs
  try {
    inputs = await inputsOf(args, io)
  } catch (err) {
    if (err instanceof InputError) return usageFailure(io, err, errColour)
    throw err
  }

  // Ctrl-C: stop at the next safe point (a restore writes its checkpoint; a write fence comes down
  // at once), once. A second one quits at once: the default handler is back by then.
  const stop = new RunStop()
  const stopListening = io.onInterrupt?.(() => {
    screen.line(
      `${paint({ color: errColour }, 'yellow', 'Interrupted:')} stopping at the next safe point (a restore writes its checkpoint). Ctrl-C again quits at once.`
    )
    void stop.request('Ctrl-C', logger)
  })
  let run: GuardRun
  try {
    run = await runGuard(inputs, {
      logger,
      clock: io.clock ?? systemClock,
      stop,
      debugAwsCalls: args.options.debug,
      createClients: io.createClients
    })
  } catch (err) {
    screen.close()
    if (err instanceof InputError || err instanceof FileError) return usageFailure(io, err, errColour)
    throw err
  } finally {
    stopListening?.()
  }
  screen.close()
  if (run.error instanceof Error && run.error.stack) logger.debug(run.error.stack)

  if (args.options.json) {
    io.stdout.write(`${JSON.stringify(jsonOutputs(run.result), null, 2)}\n`)
  } else {
    const markdown = renderReport(run.report, { decisionPaths: 'list' })
    const width = Math.min(io.stdout.columns ?? 120, 120)
    io.stdout.write(`\n${renderForTerminal(markdown, { color: outColour, width })}`)
  }
  if (run.failure === null) return EXIT.ok
  io.stderr.write(`${paint({ color: errColour }, 'red', 'error:')} ${run.failure}\n`)
  return stop.signal.aborted ? EXIT.interrupted : EXIT.failed
}
