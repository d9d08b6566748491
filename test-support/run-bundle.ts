import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const BUNDLE = join(REPO_ROOT, 'dist', 'index.js')

/**
 * The node that runs the bundles: BUNDLE_NODE when set (`npm run test:e2e:node24` sets it to Node
 * 24, the runtime action.yml declares), else the node running the tests. The same e2e tests run
 * under each.
 */
export const BUNDLE_NODE = process.env.BUNDLE_NODE || process.execPath

export interface BundleRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** The `::error::` lines the run printed. */
  errors: string[]
  /** The `::warning::` lines (annotations) the run printed. */
  warnings: string[]
  /** The signal signalWhen sent (null when the pattern never matched). */
  signalled: NodeJS.Signals | null
}

export interface BundleOptions {
  /** Action inputs by their action.yml names (`dry-run`, `stack-name`, …). */
  inputs: Record<string, string>
  /** AWS endpoint (moto, or a proxy in front of it). */
  awsEndpoint: string
  githubApiUrl?: string
  /** A pull_request event for this PR number; omitted → a workflow_dispatch event. */
  pullRequest?: number
  workspace?: string
  env?: Record<string, string>
  timeoutMs?: number
  /** Sends `signal` to the bundle the first time its stdout matches `pattern` (a kill mid-run). */
  signalWhen?: { pattern: RegExp; signal: NodeJS.Signals }
}

/** Parses the GITHUB_OUTPUT file format that @actions/core writes (`name<<DELIM\nvalue\nDELIM`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!m) continue
    const [, name, delimiter] = m
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    outputs[name!] = value.join('\n')
  }
  return outputs
}

/**
 * Runs the committed dist/index.js the way the GitHub runner does: inputs as INPUT_* variables,
 * GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, an event payload file, GITHUB_API_URL.
 */
export async function runBundle(opts: BundleOptions): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-run-'))
  const outputFile = join(dir, 'output.txt')
  const summaryFile = join(dir, 'summary.md')
  const eventFile = join(dir, 'event.json')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const repository = { name: 'app', owner: { login: 'acme' }, full_name: 'acme/app' }
  const event =
    opts.pullRequest !== undefined
      ? {
          action: 'synchronize',
          number: opts.pullRequest,
          pull_request: { number: opts.pullRequest, head: { ref: 'feature' } },
          repository
        }
      : { inputs: {}, ref: 'refs/heads/main', repository }
  writeFileSync(eventFile, JSON.stringify(event))

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: opts.pullRequest !== undefined ? 'pull_request' : 'workflow_dispatch',
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_API_URL: opts.githubApiUrl ?? 'http://127.0.0.1:9',
    GITHUB_WORKSPACE: opts.workspace ?? dir,
    RUNNER_TEMP: dir,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: opts.awsEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...opts.env
  }
  for (const [name, value] of Object.entries(opts.inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  if (env['INPUT_GITHUB-TOKEN'] === undefined) env['INPUT_GITHUB-TOKEN'] = 'ghs_test_token'

  const child = spawn(BUNDLE_NODE, [BUNDLE], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let signalled: NodeJS.Signals | null = null
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    if (opts.signalWhen && signalled === null && opts.signalWhen.pattern.test(stdout)) {
      signalled = opts.signalWhen.signal
      child.kill(signalled)
    }
  })
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bundle run timed out; stdout:\n${stdout}\nstderr:\n${stderr}`))
    }, opts.timeoutMs ?? 60_000)
    child.on('close', c => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  const run: BundleRun = {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    errors: stdout.split('\n').filter(l => l.startsWith('::error')),
    warnings: stdout.split('\n').filter(l => l.startsWith('::warning')),
    signalled
  }
  rmSync(dir, { recursive: true, force: true })
  return run
}

/** The committed CLI bundle (package.json's bin). */
export const CLI = join(REPO_ROOT, 'dist', 'cli.js')

export interface CliOptions {
  args: string[]
  /** AWS endpoint (moto, or a proxy in front of it); omitted: no AWS_ENDPOINT_URL at all. */
  awsEndpoint?: string
  cwd?: string
  /** Added to (or, with undefined, removed from) the environment cliEnv makes. */
  env?: Record<string, string | undefined>
  timeoutMs?: number
}

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * The environment of someone running the CLI on a laptop or in another CI: test credentials and
 * region, the emulator endpoint, nothing of GitHub Actions (no GITHUB_* or INPUT_* variables).
 */
export function cliEnv(opts: Pick<CliOptions, 'awsEndpoint' | 'env'>, home: string): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Keep ~/.aws of whoever runs the tests out of it.
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    ...(opts.awsEndpoint !== undefined ? { AWS_ENDPOINT_URL: opts.awsEndpoint } : {}),
    ...opts.env
  }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
}

/** A started CLI: its output so far, Ctrl-C, and how it ended. */
export interface StartedCli {
  output: () => { stdout: string; stderr: string }
  interrupt: () => void
  done: Promise<CliRun>
}

/**
 * Starts `command args` in the CLI's environment, in a HOME of its own (removed at the end),
 * collecting stdout and stderr; killed after the timeout.
 */
function spawnCli(opts: CliOptions, command: string, args: string[], extraEnv = {}): StartedCli {
  const home = mkdtempSync(join(tmpdir(), 'orphan-guard-cli-home-'))
  const child = spawn(command, args, {
    env: { ...cliEnv(opts, home), ...extraEnv },
    cwd: opts.cwd ?? home,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', err => reject(new Error(`cannot start ${command}: ${err.message}`)))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CLI run timed out; stdout:\n${stdout}\nstderr:\n${stderr}`))
    }, opts.timeoutMs ?? 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      rmSync(home, { recursive: true, force: true })
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { output: () => ({ stdout, stderr }), interrupt: () => child.kill('SIGINT'), done }
}

/** Starts dist/cli.js with BUNDLE_NODE (stdin closed, stdout and stderr piped: not a terminal). */
export function startCli(opts: CliOptions): StartedCli {
  return spawnCli(opts, BUNDLE_NODE, [CLI, ...opts.args])
}

export function runCli(opts: CliOptions): Promise<CliRun> {
  return startCli(opts).done
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * Runs dist/cli.js on a pseudo-terminal made by `script` (util-linux; BSD `script` on macOS):
 * stdin, stdout and stderr are then a TTY, as in an interactive shell. Returns everything the
 * terminal received, escape sequences included, in its stdout (the CLI's stdout and stderr
 * interleaved, as a terminal shows them).
 */
export function runCliInTerminal(opts: CliOptions & { columns?: number }): Promise<CliRun> {
  const command = [
    `stty cols ${opts.columns ?? 100} rows 40 2>/dev/null;`,
    'exec',
    ...[BUNDLE_NODE, CLI, ...opts.args].map(shellQuote)
  ].join(' ')
  const args =
    process.platform === 'darwin'
      ? ['-q', '/dev/null', 'sh', '-c', command]
      : ['--quiet', '--return', '--command', command, '/dev/null']
  return spawnCli(opts, 'script', args, { TERM: opts.env?.TERM ?? 'xterm-256color' }).done
}
