/**
 * runCli in-process, without AWS: bad command lines and bad input end with exit code 2 and a
 * message naming the flag, with no AWS call; --json maps every output to a JSON value.
 * (The CLI against moto, as a process, is in __tests__/e2e/cli.test.ts.)
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXIT, jsonOutputs, runCli, type CliIo } from '../../src/cli/cli.js'
import type { AwsClients } from '../../src/aws/clients.js'
import type { RunResult } from '../../src/types.js'

function io(env: NodeJS.ProcessEnv = { AWS_REGION: 'us-east-1' }): CliIo & {
  out: () => string
  err: () => string
  calls: () => number
} {
  let out = ''
  let err = ''
  let calls = 0
  const client = {
    send: async () => {
      calls++
      throw new Error('no AWS in this test')
    },
    destroy: () => undefined
  }
  return {
    stdout: { write: (s: string) => void (out += s) },
    stderr: { write: (s: string) => void (err += s) },
    env,
    cwd: '/nonexistent-workspace',
    createClients: () => {
      const clients = { dynamodb: client, cloudformation: client, s3: client, sts: client }
      return {
        defaultRegion: 'us-east-1',
        forRegion: () => clients as unknown as AwsClients,
        destroy: () => undefined
      }
    },
    out: () => out,
    err: () => err,
    calls: () => calls
  }
}

describe('exit code 2, naming the flag, and no AWS call', () => {
  it.each([
    [['--stage', 'pr-5', '--dryrun'], 'error: --dryrun: unknown flag; did you mean --dry-run?'],
    [['--stage', 'pr 5'], "error: --stage: 'pr 5' is not a valid stage"],
    [['--strategy', 'report'], 'error: --stage: is required (e.g. pr-5)'],
    [['--stage', 'pr-5', '--pr-number', 'x'], "error: --pr-number: 'x' is not a pull request number"],
    [['--stage', 'pr-5', '--tables', 'a b'], "error: --tables: 'a b' is not a valid DynamoDB table name"],
    [
      ['--stage', 'pr-5', '--aws-region', 'moon-1'],
      "error: --aws-region: 'moon-1' is not an AWS region name"
    ],
    [['--stage', 'pr-5'], 'error: --template: no such file or directory: /nonexistent-workspace/cdk.out']
  ])('%j', async (argv, message) => {
    const cli = io()
    expect(await runCli(argv, cli)).toBe(EXIT.usage)
    expect(cli.err()).toContain(message)
    expect(cli.out()).toBe('')
    expect(cli.calls()).toBe(0)
  })
})

describe('relative paths', () => {
  it('resolve against the current directory, also where GITHUB_WORKSPACE is set (as --help says)', async () => {
    const cli = io({ AWS_REGION: 'us-east-1', GITHUB_WORKSPACE: '/some/other/workspace' })
    expect(await runCli(['--stage', 'pr-5', '--template', 'cdk.out'], cli)).toBe(EXIT.usage)
    expect(cli.err()).toContain(
      'error: --template: no such file or directory: /nonexistent-workspace/cdk.out'
    )
  })
})

describe('help, version, flags only the action uses', () => {
  it('--help and -h print the help on stdout, exit 0, and touch nothing', async () => {
    for (const flag of ['--help', '-h']) {
      const cli = io()
      expect(await runCli([flag, '--stage', 'pr 5'], cli)).toBe(EXIT.ok)
      expect(cli.out()).toMatch(/^Usage: dynamodb-orphan-guard --stage <stage> \[flags\]/)
      expect(cli.calls()).toBe(0)
    }
  })

  it('says that it ignores --github-token, --comment and --pr-number', async () => {
    const cli = io()
    await runCli(['--stage', 'pr-5', '--no-comment', '--template', '/nonexistent'], cli)
    expect(cli.err()).toContain('warning: --comment is used by the GitHub Action only: the CLI ignores it.')
  })
})

describe('--json', () => {
  const result: RunResult = {
    outcome: 'restored',
    plan: null,
    steps: [],
    backupManifests: ['/b/t/manifest.json'],
    backupArns: [],
    restoredItems: 42
  }

  it('has every output of the action, JSON where the output is JSON', () => {
    expect(jsonOutputs(result)).toEqual({
      'has-orphans': false,
      orphans: [],
      plan: [],
      outcome: 'restored',
      'backup-manifests': ['/b/t/manifest.json'],
      'backup-arns': [],
      'restored-items': 42,
      'restore-needed': false,
      'pending-restores': []
    })
  })
})

describe("the README's recipe for another CI", () => {
  const readme = readFileSync('README.md', 'utf8')
  const section = readme.slice(readme.indexOf('\n## Use it from a laptop or another CI\n'))
  const recipe = section.slice(0, section.indexOf('\n## ', 1))
  // The shell condition that decides whether the restore step runs, as the recipe writes it.
  const gates = [...recipe.matchAll(/node -e '([^']+)'/g)].map(m => m[1] as string)

  /** Runs the recipe's gate in a folder holding `--json`'s output for `result`; true when it passes. */
  function gatePasses(gate: string, result: RunResult): boolean {
    const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-recipe-'))
    try {
      writeFileSync(join(dir, 'guard.json'), `${JSON.stringify(jsonOutputs(result), null, 2)}\n`)
      const run = spawnSync(process.execPath, ['-e', gate], { cwd: dir, encoding: 'utf8' })
      expect(run.stderr).toBe('')
      return run.status === 0
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  const base: RunResult = {
    outcome: 'nothing-to-do',
    plan: null,
    steps: [],
    backupManifests: [],
    backupArns: [],
    restoredItems: 0,
    pendingRestores: []
  }
  const owed = {
    table: 'pr-5-orders',
    source: 's3' as const,
    backup: 's3://bucket/orphan-guard/pr-5/pr-5-orders/20250304T050607Z/manifest.json',
    takenAt: '2025-03-04T05:06:07.000Z'
  }

  it('runs the restore when one is owed, also on the run after a failed deploy (no backup taken)', () => {
    expect(gates).toHaveLength(1)
    const gate = gates[0]!
    // The run after a failed deploy: the table is gone, nothing was backed up, the restore is owed.
    expect(gatePasses(gate, { ...base, pendingRestores: [owed] })).toBe(true)
    // The run that backed the table up and deleted it.
    expect(
      gatePasses(gate, {
        ...base,
        outcome: 'resolved',
        backupManifests: ['backups/pr-5/pr-5-orders/20250304T050607Z/manifest.json'],
        pendingRestores: [owed]
      })
    ).toBe(true)
  })

  it('skips the restore when nothing is owed', () => {
    expect(gatePasses(gates[0]!, base)).toBe(false)
    expect(gatePasses(gates[0]!, { ...base, outcome: 'restored', restoredItems: 3 })).toBe(false)
  })
})
