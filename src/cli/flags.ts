/**
 * The CLI's flags: the action's inputs from the one table in inputs.ts (same names, same
 * defaults, validated by the same getInputs), plus a few flags of the CLI's own. Booleans are
 * `--dry-run` / `--no-dry-run` (or `--dry-run=false`). Anything else is a UsageError naming the
 * flag, before anything else happens.
 */
import { INPUTS, type InputDefinition } from '../inputs.js'

/** A command line the CLI cannot take: exit code 2, before any AWS call. */
export class UsageError extends Error {
  constructor(
    /** The flag at fault, as written (`--stage`), or null for a stray argument. */
    readonly flag: string | null,
    message: string
  ) {
    super(flag === null ? message : `${flag}: ${message}`)
    this.name = 'UsageError'
  }
}

/** Flags of the CLI's own (not inputs of the action). */
export const CLI_FLAGS = {
  json: {
    type: 'boolean',
    description:
      'Print exactly one JSON object on stdout: every output of the action (has-orphans, orphans, plan, outcome, …), JSON values where the output is JSON. The report and the log go to stderr.'
  },
  debug: {
    type: 'boolean',
    description:
      'Log every AWS call with its operation, table and duration (never item data), like RUNNER_DEBUG=1 in Actions.'
  },
  profile: {
    type: 'string',
    description:
      'AWS profile to use (sets AWS_PROFILE): credentials and region come from ~/.aws/config and ~/.aws/credentials, SSO included.'
  },
  'progress-interval': {
    type: 'number',
    description:
      'Seconds between two progress lines when stderr is not a terminal (default 5). On a terminal, progress bars are redrawn in place instead.'
  },
  help: { type: 'boolean', description: 'Show this help.' },
  version: { type: 'boolean', description: 'Show the version of the CLI and of Node.' }
} as const

type CliFlag = keyof typeof CLI_FLAGS

export interface CliOptions {
  json: boolean
  debug: boolean
  help: boolean
  version: boolean
  profile?: string
  /** Milliseconds. */
  progressIntervalMs?: number
}

export interface ParsedArgs {
  /** Raw input values by input name, as getInputs reads them ('' or absent = the default). */
  inputs: Record<string, string>
  options: CliOptions
  /** Action-only inputs that were given (the CLI checks them, says it ignores them, and runs with their defaults). */
  ignored: string[]
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] as number
}

function suggestion(name: string, known: string[]): string {
  const best = known
    .map(k => [k, distance(name, k)] as const)
    .sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))[0]
  return best !== undefined && best[1] <= Math.max(2, Math.floor(name.length / 4))
    ? `; did you mean --${best[0]}?`
    : ''
}

function booleanValue(flag: string, value: string): string {
  if (/^(true|false)$/i.test(value)) return value.toLowerCase()
  throw new UsageError(
    flag,
    `'${value}' is not a boolean; use true or false (or --${flag.replace(/^--(no-)?/, '')} / --no-…)`
  )
}

/**
 * Reads the command line. `table` is the inputs' table (INPUTS; tests hand in others to show that
 * a new input becomes a flag with no change here).
 */
export function parseArgs(
  argv: readonly string[],
  table: Record<string, InputDefinition> = INPUTS
): ParsedArgs {
  const inputs: Record<string, string> = {}
  const options: CliOptions = { json: false, debug: false, help: false, version: false }
  const ignored: string[] = []
  const seen = new Set<string>()
  const clashes = Object.keys(CLI_FLAGS).filter(name => name in table)
  if (clashes.length > 0) throw new Error(`internal: CLI flags ${clashes.join(', ')} are also inputs`)
  const known = [...Object.keys(table), ...Object.keys(CLI_FLAGS)]

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '-h') {
      options.help = true
      continue
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg)
    if (!match) {
      if (arg.startsWith('-'))
        throw new UsageError(arg, `unknown flag${suggestion(arg.replace(/^-+/, ''), known)}`)
      throw new UsageError(
        null,
        `unexpected argument '${arg}': every value follows its flag, e.g. --stage pr-5`
      )
    }
    let name = match[1] as string
    const inline = match[2]
    let negated = false
    const type = (n: string): InputDefinition['type'] | undefined =>
      table[n]?.type ?? (CLI_FLAGS as Record<string, { type: InputDefinition['type'] }>)[n]?.type
    if (type(name) === undefined && name.startsWith('no-') && type(name.slice(3)) === 'boolean') {
      name = name.slice(3)
      negated = true
    }
    const kind = type(name)
    const flag = `--${name}`
    if (kind === undefined)
      throw new UsageError(`--${match[1]}`, `unknown flag${suggestion(match[1] as string, known)}`)
    if (seen.has(name)) throw new UsageError(flag, 'given more than once')
    seen.add(name)

    let value: string
    if (kind === 'boolean') {
      if (negated && inline !== undefined) throw new UsageError(`--no-${name}`, 'takes no value')
      value = negated ? 'false' : inline === undefined ? 'true' : booleanValue(flag, inline)
    } else if (inline !== undefined) {
      value = inline
    } else {
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new UsageError(
          flag,
          `needs a value (e.g. ${flag} ${name === 'stage' ? 'pr-5' : '…'}, or ${flag}=…)`
        )
      value = next
      i++
    }

    if (name in table) {
      inputs[name] = value
      if (table[name]?.actionOnly === true) ignored.push(name)
      continue
    }
    switch (name as CliFlag) {
      case 'json':
      case 'debug':
      case 'help':
      case 'version':
        options[name as 'json' | 'debug' | 'help' | 'version'] = value === 'true'
        break
      case 'profile':
        if (value.trim() === '') throw new UsageError(flag, 'needs a profile name')
        options.profile = value
        break
      case 'progress-interval': {
        const seconds = Number(value)
        if (!/^\d+(\.\d+)?$/.test(value) || seconds < 0.1 || seconds > 3600)
          throw new UsageError(flag, `'${value}' is not a number of seconds from 0.1 to 3600`)
        options.progressIntervalMs = Math.round(seconds * 1000)
        break
      }
    }
  }
  return { inputs, options, ignored }
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(w => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(indent + line)
  return lines
}

function placeholder(type: InputDefinition['type'], choices?: readonly string[]): string {
  if (choices) return `<${choices.join('|')}>`
  return type === 'number' ? '<number>' : '<value>'
}

/** One flag: its name line (with default), then its description, wrapped under it. */
function flagEntry(name: string, usage: string, note: string, description: string, width: number): string[] {
  const head = `  ${usage}`
  return [note === '' ? head : `${head}  (${note})`, ...wrap(description, width, '      ')]
}

/** `--help`: every input of the table as a flag, then the CLI's own flags, exit codes and environment. */
export function helpText(table: Record<string, InputDefinition> = INPUTS, width = 100): string {
  const inputs = Object.entries(table).flatMap(([name, input]) => {
    const usage =
      input.type === 'boolean'
        ? `--${name}, --no-${name}`
        : `--${name} ${name === 'stage' ? '<stage>' : placeholder(input.type, input.choices)}`
    const note = input.actionOnly
      ? 'GitHub Action only: the CLI ignores it'
      : input.required
        ? 'required'
        : input.default === ''
          ? ''
          : `default: ${input.default}`
    const description = input.cliNote ? `${input.description} ${input.cliNote}` : input.description
    return flagEntry(name, usage, note, description, width)
  })
  const own = Object.entries(CLI_FLAGS).flatMap(([name, flag]) => {
    const usage =
      name === 'help'
        ? '--help, -h'
        : flag.type === 'boolean'
          ? `--${name}`
          : `--${name} ${name === 'profile' ? '<name>' : placeholder(flag.type)}`
    return flagEntry(name, usage, '', flag.description, width)
  })
  return [
    'Usage: dynamodb-orphan-guard --stage <stage> [flags]',
    '',
    ...wrap(
      'Finds the named DynamoDB tables a CDK or CloudFormation deploy will create that already exist outside their stack, and resolves them as the GitHub Action does: the same inputs, the same decisions, the same backups. Credentials and region come from the AWS SDK as usual (environment, --profile / AWS_PROFILE, SSO, instance roles).',
      width,
      ''
    ),
    '',
    "The action's inputs (the same names and defaults; relative paths are relative to the current directory):",
    ...inputs,
    '',
    'Flags of the CLI:',
    ...own,
    '',
    'Output: on a terminal, the report (the job summary of the action, for a terminal) on stdout and',
    'progress bars on stderr; otherwise plain text, and a progress line every few seconds on stderr.',
    'Colour only when stdout is a terminal and NO_COLOR is not set.',
    '',
    'Exit codes:',
    '  0    nothing to do, resolved, restored, dry run (and report mode, which never fails on a plan)',
    '  1    blocked or failed: the action would fail its step (the report says why and how to go on)',
    '  2    bad flags or input, or an unreadable template: nothing was called on AWS',
    '  130  interrupted (Ctrl-C): a restore stopped at its checkpoint; run the same command again to',
    '       resume. A second Ctrl-C quits at once.',
    ''
  ].join('\n')
}
