/**
 * End to end: the committed CLI bundle (dist/cli.js), run as someone runs it on a laptop or in
 * another CI (no GitHub variables; stdout and stderr are pipes, not a terminal), against moto behind
 * a recording proxy. The same core as the action: the same plan, outputs and outcomes.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { parse } from 'yaml'
import { join } from 'node:path'
import { DeleteTableCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { makeFixtureOrphans, makeUnmanagedTable, type Item } from '../../test-support/orphans.js'
import {
  isReadOnlyOperation,
  startRecordingProxy,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
import { startFaultProxy, type RunningFaultProxy } from '../../test-support/fault-proxy.js'
import { quietLogger } from '../../test-support/execution.js'
import {
  BUNDLE_NODE,
  REPO_ROOT,
  runCli,
  runCliInTerminal,
  startCli,
  type CliRun
} from '../../test-support/run-bundle.js'
import { exportTable } from '../../src/data/export.js'
import { describeTableOrNull, listAllTags } from '../../src/aws/dynamodb-read.js'
import { RESTORED_TAG } from '../../src/data/backup-set.js'
import type { AwsClients } from '../../src/aws/clients.js'

// Every test runs the bundle as a process (a few seconds each, more on a busy machine).
jest.setTimeout(120_000)

const CDK_OUT = join(REPO_ROOT, '__fixtures__', 'cdk-out-pr-5')
/** Values that are item data: they must never reach a log line. */
const SECRET = 'item-value-that-must-not-be-logged'

let moto: MotoServer
let proxy: RecordingProxy
let clients: AwsClients

beforeAll(async () => {
  moto = await startMoto()
  proxy = await startRecordingProxy(moto.endpoint)
  clients = testClients(moto.endpoint)
  await makeFixtureOrphans(
    clients,
    [0, 1, 2].map(i => ({ pk: { S: `${SECRET}-${i}` }, sk: { S: 'v' } }))
  )
}, 120_000)

afterAll(async () => {
  destroyClients(clients)
  await proxy?.stop()
  await moto?.stop()
})

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli({ args, awsEndpoint: proxy.endpoint, env })
}

describe('report mode on a cloud assembly with orphans', () => {
  let json: CliRun
  let text: CliRun

  beforeAll(async () => {
    proxy.calls.length = 0
    json = await cli(['--stage', 'pr-5', '--strategy', 'report', '--template', CDK_OUT, '--json'])
    text = await cli(['--stage', 'pr-5', '--strategy=report', `--template=${CDK_OUT}`])
  })

  it('--json: exit 0 and exactly one JSON object on stdout with every output of the action', () => {
    expect([json.code, json.stderr]).toEqual([0, expect.any(String)])
    const out = JSON.parse(json.stdout) as Record<string, unknown>
    // Every output action.yml declares, the ones other issues add included, and nothing else.
    const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as { outputs: object }
    expect(Object.keys(out).sort()).toEqual(Object.keys(action.outputs).sort())
    expect(out['has-orphans']).toBe(true)
    expect(out.orphans).toEqual(['pr-5-api-cache', 'pr-5-main-table'])
    expect(out.outcome).toBe('dry-run')
    expect(out['restored-items']).toBe(0)
    const plan = out.plan as Array<Record<string, unknown>>
    expect(plan.find(e => e.table === 'pr-5-main-table')).toMatchObject({
      owner: 'retained',
      hasData: true,
      decision: 'import'
    })
  })

  it('the log goes to stderr, a stage of the run per heading', () => {
    for (const stage of ['Discover', 'Inspect', 'Plan']) expect(json.stderr).toContain(`==> ${stage}\n`)
    expect(json.stderr).toMatch(/pr-5-main-table \(orphaned, owner retained, has data.*\) → import/)
  })

  it('without --json: the report as plain text on stdout (no escape sequences off a terminal)', () => {
    expect(text.code).toBe(0)
    expect(text.stdout).not.toContain('\x1b[')
    expect(text.stdout).toContain('Report only: 2 orphaned tables found, nothing was changed')
    expect(text.stdout).toContain('Stack pr-5-aws-boilerplate-database')
    // An aligned table: header, rule, rows whose cells start in the header's columns.
    const lines = text.stdout.split('\n')
    const row = lines.findIndex(l => l.startsWith('pr-5-main-table '))
    const isHeader = (l: string): boolean =>
      /^Table\s+Exists\s+Owner\s+Data\s+Differences\s+Decision$/.test(l)
    const header = lines.slice(0, row).findLastIndex(isHeader)
    expect(header).toBeGreaterThan(-1)
    expect(lines[header + 1]).toMatch(/^─+( +─+){5}$/)
    for (const [column, value] of <Array<[string, string]>>[
      ['Exists', 'yes, orphaned'],
      ['Owner', 'retained (no stack)'],
      ['Data', 'has data'],
      ['Decision', 'import']
    ])
      expect([column, lines[row]!.indexOf(value)]).toEqual([column, lines[header]!.indexOf(column)])
    // The decision path as a list (no mermaid on a terminal), and no markdown left over.
    expect(text.stdout).toMatch(/^1\. .+ → .+$/m)
    expect(text.stdout).not.toMatch(/```|<details>|\*\*/)
  })

  it('makes only read-only AWS calls', () => {
    const operations = proxy.operations()
    expect(operations.length).toBeGreaterThan(0)
    expect(operations.filter(op => !isReadOnlyOperation(op))).toEqual([])
  })
})

describe('exit codes', () => {
  it('1 for a blocked plan, with the tables and what to change on stderr; nothing changed', async () => {
    proxy.calls.length = 0
    const r = await cli(['--stage', 'pr-5', '--strategy', 'delete', '--template', CDK_OUT, '--json'])
    expect(r.code).toBe(1)
    expect((JSON.parse(r.stdout) as { outcome: string }).outcome).toBe('blocked')
    expect(r.stderr).toMatch(/error: .*table\(s\) blocked; nothing was changed/)
    expect(r.stderr).toMatch(/- pr-5-main-table( \(us-east-1\))?: .*allow-data-loss/)
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
  })

  it.each([
    [
      'an unknown flag',
      ['--stage', 'pr-5', '--strategi', 'report'],
      /error: --strategi: unknown flag; did you mean --strategy\?/
    ],
    ['a bad stage', ['--stage', 'pr 5'], /error: --stage: 'pr 5' is not a valid stage/],
    [
      'a bad strategy',
      ['--stage', 'pr-5', '--strategy', 'nuke'],
      /error: --strategy: 'nuke' is not supported/
    ],
    ['a flag without its value', ['--stage'], /error: --stage: needs a value/],
    ['a value without its flag', ['--stage', 'pr-5', 'report'], /error: unexpected argument 'report'/],
    [
      'a boolean with a value that is not one',
      ['--stage', 'pr-5', '--dry-run=yes'],
      /error: --dry-run: 'yes' is not a boolean/
    ],
    ['a missing template', ['--stage', 'pr-5', '--template', '/nonexistent/cdk.out'], /template/]
  ])('2 for %s, naming the flag, with no AWS call', async (_name, args, message) => {
    proxy.calls.length = 0
    const r = await cli([...args, '--json'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe('')
    expect(proxy.operations()).toEqual([])
  })

  it('--help lists the flags and exits 0; --version names the node that runs it', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--no-aws-backup')
    const version = await cli(['--version'])
    expect(version.code).toBe(0)
    // BUNDLE_NODE is Node 24 under `npm run test:e2e:node24`: this shows the bundle really ran on it.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(version.stdout.trim()).toBe(
      `dynamodb-orphan-guard ${pkg.version} (node ${execFileSync(BUNDLE_NODE, ['--version'], { encoding: 'utf8' }).trim()})`
    )
  })

  it("the release workflow's version check passes on this bundle for package.json's tag only", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
    const releaseNotes = (tag: string): ReturnType<typeof spawnSync> =>
      spawnSync(
        process.execPath,
        ['--import', './scripts/register-ts.mjs', 'scripts/release-notes.ts', tag],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8'
        }
      )
    const right = releaseNotes(`v${pkg.version}`)
    expect([right.status, right.stderr]).toEqual([0, ''])
    expect(right.stdout).toMatch(/\S/)
    const wrong = releaseNotes('v999.0.0')
    expect(wrong.status).toBe(1)
    expect(wrong.stdout).toBe('')
    expect(wrong.stderr).toContain(`package.json says version ${pkg.version}, the tag says 999.0.0`)
    expect(wrong.stderr).toContain(
      `the committed dist/cli.js says version ${pkg.version}, the tag says 999.0.0`
    )
  })
})

describe('credentials and region the usual way', () => {
  it('a named profile from the AWS config files (--profile), region included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-profile-'))
    try {
      writeFileSync(join(dir, 'config'), '[profile preview]\nregion = eu-west-1\n')
      writeFileSync(
        join(dir, 'credentials'),
        '[preview]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n'
      )
      const r = await cli(
        ['--stage', 'pr-5', '--strategy', 'report', '--template', CDK_OUT, '--profile', 'preview'],
        {
          AWS_REGION: undefined,
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
          AWS_CONFIG_FILE: join(dir, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials')
        }
      )
      expect([r.code, r.stderr]).toEqual([0, expect.not.stringContaining('error')])
      // eu-west-1 has none of the us-east-1 tables: nothing orphaned there.
      expect(r.stdout).toContain('region eu-west-1')
      expect(r.stdout).toContain('Nothing to do')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('no region anywhere: exit 2 naming --aws-region', async () => {
    const r = await cli(['--stage', 'pr-5', '--template', CDK_OUT], { AWS_REGION: undefined })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/error: --aws-region: no region/)
  })
})

describe('--debug', () => {
  it('logs every AWS call with its operation, table and duration, and never item data', async () => {
    proxy.calls.length = 0
    const r = await cli(['--stage', 'pr-5', '--strategy', 'report', '--template', CDK_OUT, '--debug'])
    expect(r.code).toBe(0)
    const calls = r.stderr.split('\n').filter(l => l.startsWith('debug: AWS '))
    expect(calls).toContainEqual(
      expect.stringMatching(/^debug: AWS DynamoDB\.DescribeTable table=pr-5-main-table: \d+ ms$/)
    )
    expect(calls).toContainEqual(
      expect.stringMatching(/^debug: AWS DynamoDB\.Scan table=pr-5-main-table: \d+ ms$/)
    )
    expect(calls).toContainEqual(expect.stringMatching(/^debug: AWS STS\.GetCallerIdentity: \d+ ms$/))
    // One line per call the proxy saw.
    expect(calls).toHaveLength(proxy.calls.length)
    expect(r.stderr).not.toContain(SECRET)
    expect(r.stdout).not.toContain(SECRET)
  })
})

describe('a restore, not on a terminal', () => {
  const TABLE = 'pr-8-orders'
  const ITEMS: Item[] = Array.from({ length: 900 }, (_, i) => ({
    pk: { S: `order#${String(i).padStart(4, '0')}` },
    sk: { S: 'v' },
    total: { N: `${i}.5` }
  }))
  let backupDir: string
  let slow: RunningFaultProxy

  beforeAll(async () => {
    backupDir = mkdtempSync(join(tmpdir(), 'orphan-guard-cli-restore-'))
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: ITEMS })
    await exportTable(clients.dynamodb, {
      table: TABLE,
      dir: join(backupDir, TABLE, '20261205T000000Z'),
      region: 'us-east-1',
      stage: 'pr-8',
      logger: quietLogger
    })
    // DynamoDB at 300 write units a second: the restore takes about 3 s.
    slow = await startFaultProxy({ target: moto.endpoint, writeUnitsPerSecond: 300 })
  }, 60_000)

  afterAll(async () => {
    await slow?.stop()
    rmSync(backupDir, { recursive: true, force: true })
  })

  async function freshTarget(): Promise<void> {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: TABLE }))
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })
    rmSync(join(backupDir, TABLE, '20261205T000000Z', 'restore-checkpoint.json'), { force: true })
  }

  async function itemCount(): Promise<number> {
    let count = 0
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined
    do {
      const page = await clients.dynamodb.send(
        new ScanCommand({ TableName: TABLE, ExclusiveStartKey, Select: 'COUNT' })
      )
      count += page.Count ?? 0
      ExclusiveStartKey = page.LastEvaluatedKey
    } while (ExclusiveStartKey)
    return count
  }

  const restoreArgs = (): string[] => [
    '--stage',
    'pr-8',
    '--phase',
    'restore',
    '--tables',
    TABLE,
    // The backup to restore, named (a restore by hand: nothing owed is looked up).
    '--backup-dir',
    join(backupDir, TABLE, '20261205T000000Z'),
    '--progress-interval',
    '0.5',
    '--json'
  ]

  it('prints a progress line every interval (items, rate, ETA), then verifies; exit 0', async () => {
    await freshTarget()
    const r = await runCli({ args: restoreArgs(), awsEndpoint: slow.endpoint })
    expect([r.code, r.stderr]).toEqual([0, expect.any(String)])
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    expect(out).toMatchObject({ outcome: 'restored', 'restored-items': 900 })
    const progress = r.stderr
      .split('\n')
      .map(l => /^Restore pr-8-orders: (\d+)\/900 items \(\d+%\), \d+ items\/s, ETA \d+s$/.exec(l))
      .filter(m => m !== null)
      .map(m => Number(m[1]))
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress)
    expect(r.stderr).toMatch(/^Restore pr-8-orders: 900\/900 items \(100%\), \d+ items\/s — done in \d+s$/m)
    expect(r.stderr).toMatch(/^Verify pr-8-orders: 900\/900 items \(100%\), \d+ items\/s — done in \d+s$/m)
    expect(r.stderr).toContain('==> Restore pr-8-orders')
    expect(await itemCount()).toBe(900)
  })

  it('Ctrl-C stops the restore at its checkpoint (exit 130); the same command again resumes and finishes', async () => {
    await freshTarget()
    const running = startCli({ args: restoreArgs(), awsEndpoint: slow.endpoint })
    // Interrupt once a progress line shows items written.
    for (;;) {
      const line = /Restore pr-8-orders: (\d+)\/900/.exec(running.output().stderr)
      if (line && Number(line[1]) > 0) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    running.interrupt()
    const stopped = await running.done
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toContain('Interrupted: stopping at the next safe point')
    expect(stopped.stderr).toMatch(/Restore into pr-8-orders interrupted/)
    expect(stopped.stderr).toMatch(/— stopped after \d+s/)
    expect((JSON.parse(stopped.stdout) as { outcome: string }).outcome).toBe('failed')
    const checkpoint = JSON.parse(
      readFileSync(join(backupDir, TABLE, '20261205T000000Z', 'restore-checkpoint.json'), 'utf8')
    ) as { itemsDone: number; state: string }
    expect(checkpoint.state).toBe('writing')
    expect(checkpoint.itemsDone).toBeGreaterThan(0)
    expect(checkpoint.itemsDone).toBeLessThan(900)
    // Everything the checkpoint counts is in the table (nothing confirmed was lost).
    expect(await itemCount()).toBeGreaterThanOrEqual(checkpoint.itemsDone)

    const resumed = await runCli({ args: restoreArgs(), awsEndpoint: moto.endpoint })
    expect(resumed.code).toBe(0)
    expect(resumed.stderr).toContain(
      `Resuming the restore into ${TABLE}: ${checkpoint.itemsDone} of 900 items were written by an earlier run`
    )
    expect((JSON.parse(resumed.stdout) as Record<string, unknown>)['restored-items']).toBe(900)
    expect(await itemCount()).toBe(900)
    // A backup of this stage: the restore is recorded on the table, as an owed one would be.
    const arn = (await describeTableOrNull(clients.dynamodb, TABLE))?.TableArn as string
    expect((await listAllTags(clients.dynamodb, arn))[RESTORED_TAG]).toBe('pr-8/20261205T000000Z')
  })

  /** The progress frames a terminal received: each starts by clearing its line (\r, ESC[2K). */
  function barFrames(screen: string): string[] {
    return screen.split('\r\x1b[2K').filter(f => stripSgr(f).startsWith('Restore pr-8-orders  '))
  }

  it('on a terminal: a progress bar redrawn in place, and colour', async () => {
    await freshTarget()
    const r = await runCliInTerminal({ args: restoreArgs().slice(0, -3), awsEndpoint: slow.endpoint })
    expect(r.code).toBe(0)
    const frames = barFrames(r.stdout)
    expect(frames.length).toBeGreaterThanOrEqual(3)
    // In place: no line break between two frames of the bar; the count only goes up.
    for (const frame of frames.slice(0, -1)) expect(frame).not.toContain('\n')
    const counts = frames.map(f =>
      Number(/(\d[\d,]*)\/900 items/.exec(stripSgr(f))?.[1]?.replace(/,/g, '') ?? NaN)
    )
    expect(counts.every(Number.isFinite)).toBe(true)
    expect([...counts].sort((a, b) => a - b)).toEqual(counts)
    expect(stripSgr(frames[0]!)).toMatch(
      /^Restore pr-8-orders {2}\[[█░]{24}\] +\d+% {2}[\d,]+\/900 items {2}[\d,]+ items\/s/
    )
    // The last frame gives way to the line the log keeps, then the report.
    expect(stripSgr(r.stdout)).toMatch(
      /Restore pr-8-orders: 900\/900 items \(100%\), \d+ items\/s — done in \d+s/
    )
    expect(stripSgr(r.stdout)).toContain('Restored: 900 items from 1 backup')
    expect(r.stdout).toMatch(sgr('3\\d'))
  })

  it('on a terminal with NO_COLOR: the same bars, no colour at all', async () => {
    await freshTarget()
    const r = await runCliInTerminal({
      args: restoreArgs().slice(0, -3),
      awsEndpoint: slow.endpoint,
      env: { NO_COLOR: '1' }
    })
    expect(r.code).toBe(0)
    expect(barFrames(r.stdout).length).toBeGreaterThanOrEqual(3)
    expect(r.stdout).toContain('Restored: 900 items from 1 backup')
    expect(r.stdout).not.toMatch(sgr('[0-9;]*'))
  })
})

/** SGR escape sequences (colour, weight) whose parameters match `params`. */
function sgr(params: string, flags = ''): RegExp {
  return new RegExp(`${String.fromCharCode(27)}\\[${params}m`, flags)
}

function stripSgr(text: string): string {
  return text.replace(sgr('[0-9;]*', 'g'), '')
}
