/**
 * `npm run demo`: the action end to end on this machine, no AWS account needed.
 *
 * 1. starts moto (DynamoDB + CloudFormation) on a free loopback port;
 * 2. makes a real retained orphan: the database stack of the committed CDK fixture
 *    (__fixtures__/cdk-out-pr-5) is created with its main table (DeletionPolicy Retain), the
 *    table gets a few dozen items, the stack is deleted, the table stays;
 * 3. runs the committed bundle dist/index.js exactly as the GitHub runner does (INPUT_* env,
 *    GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) in `report` mode against that cloud assembly;
 * 4. prints the job summary and the outputs;
 * 5. stops moto and removes its temporary files, also on errors and Ctrl-C.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { destroyClients, testClients } from '../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../test-support/moto.js'
import { makeRetainedOrphan, type Item } from '../test-support/orphans.js'
import { BUNDLE, REPO_ROOT, runBundle } from '../test-support/run-bundle.js'
import type { AwsClients } from '../src/aws/clients.js'

const CDK_OUT = join(REPO_ROOT, '__fixtures__', 'cdk-out-pr-5')
const STAGE = 'pr-5'
const STACK = 'pr-5-aws-boilerplate-database'
const TABLE = 'pr-5-main-table'
const LOGICAL_ID = 'MainTable74195DAB'

/**
 * The main table as the CDK app defines it (keys pk/sk, GSI gsi1 on gsi1pk/gsi1sk), except that
 * point-in-time recovery was never switched on: a difference the report shows as one that the
 * next deploy converges.
 */
const TABLE_PROPERTIES = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'gsi1pk', AttributeType: 'S' },
    { AttributeName: 'gsi1sk', AttributeType: 'S' }
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'gsi1',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' }
      ],
      Projection: { ProjectionType: 'ALL' }
    }
  ]
}

const S = (value: string): { S: string } => ({ S: value })
const N = (value: number): { N: string } => ({ N: String(value) })

/** A small single-table design: 6 customers, each with a profile, 4 orders and a cart. */
function demoItems(): Item[] {
  const customers = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'ken']
  const statuses = ['PLACED', 'SHIPPED', 'DELIVERED', 'RETURNED']
  const items: Item[] = []
  customers.forEach((name, c) => {
    const pk = `CUSTOMER#${String(c + 1).padStart(4, '0')}`
    items.push({
      pk: S(pk),
      sk: S('PROFILE'),
      name: S(name),
      email: S(`${name}@example.com`),
      createdAt: S(`2026-0${(c % 9) + 1}-1${c}T09:00:00Z`),
      marketingOptIn: { BOOL: c % 2 === 0 }
    })
    for (let o = 0; o < 4; o++) {
      const id = `ORD-${c + 1}${o + 1}0${o}`
      const day = String(o * 7 + c + 1).padStart(2, '0')
      const status = statuses[(c + o) % statuses.length] ?? 'PLACED'
      items.push({
        pk: S(pk),
        sk: S(`ORDER#2026-10-${day}#${id}`),
        gsi1pk: S(`STATUS#${status}`),
        gsi1sk: S(`2026-10-${day}#${id}`),
        status: S(status),
        totalCents: N(1299 + c * 500 + o * 275),
        currency: S('EUR'),
        lines: {
          L: [
            { M: { sku: S(`SKU-${100 + o}`), qty: N(1 + (c % 3)) } },
            { M: { sku: S(`SKU-${200 + c}`), qty: N(1) } }
          ]
        }
      })
    }
    items.push({
      pk: S(pk),
      sk: S('CART'),
      skus: { SS: [`SKU-${300 + c}`, `SKU-${400 + c}`] },
      updatedAt: S(`2026-11-2${c % 6}T18:30:00Z`)
    })
  })
  return items
}

/**
 * For the terminal: the summary is GitHub markdown. Mermaid blocks become a one-line note (they
 * are a diagram on GitHub), <details>/<summary> become plain headings, HTML comments go.
 */
export function forTerminal(markdown: string): string {
  return markdown
    .replace(/```mermaid\n[\s\S]*?```\n?/g, '_(decision-path flowchart: rendered as a diagram on GitHub)_\n')
    .replace(/<!--[\s\S]*?-->\n?/g, '')
    .replace(/<details>\s*<summary>([\s\S]*?)<\/summary>/g, '▸ $1')
    .replace(/<\/?details>\n?/g, '')
    .replace(/<br\s*\/?>/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

/**
 * The `plan` output is a JSON array with differences and reasons (already in the summary above);
 * here one line per table with the fields that decide.
 */
function planDigest(planOutput: string): string {
  let entries: Record<string, unknown>[]
  try {
    entries = JSON.parse(planOutput) as Record<string, unknown>[]
  } catch {
    return planOutput
  }
  const line = (e: Record<string, unknown>): string =>
    JSON.stringify({
      table: e.table,
      exists: e.exists,
      owner: e.owner,
      hasData: e.hasData,
      decision: e.decision,
      differences: Array.isArray(e.differences) ? e.differences.length : e.differences
    })
  return (
    `JSON array of ${entries.length} (differences and reasons shortened here, shown in full above)\n` +
    entries.map(e => `  ${line(e)}`).join('\n')
  )
}

function heading(title: string): void {
  const rule = '─'.repeat(Math.max(8, 78 - title.length))
  console.log(`\n── ${title} ${rule}\n`)
}

let moto: MotoServer | undefined
let clients: AwsClients | undefined
let workDir: string | undefined
let cleaning: Promise<void> | undefined

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (clients) destroyClients(clients)
    if (moto) await moto.stop()
    if (workDir) rmSync(workDir, { recursive: true, force: true })
  })()
  return cleaning
}

function onSignal(signal: NodeJS.Signals): void {
  console.error(`\n${signal}: stopping moto and removing ${workDir ?? 'temporary files'}`)
  cleanup().then(
    () => process.exit(signal === 'SIGINT' ? 130 : 143),
    () => process.exit(1)
  )
}

async function main(): Promise<number> {
  if (!existsSync(BUNDLE)) {
    console.error(`${relative(REPO_ROOT, BUNDLE)} is missing: run \`npm run package\` first.`)
    return 1
  }
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`

  workDir = mkdtempSync(join(tmpdir(), 'orphan-guard-demo-'))
  // runBundle makes its run folder (outputs, summary, event) with mkdtemp in os.tmpdir(), which
  // reads TMPDIR on every call: pointing it here puts that folder under workDir, removed below.
  process.env.TMPDIR = workDir
  const workspace = join(workDir, 'workspace')
  mkdirSync(workspace)

  console.log('Starting moto (DynamoDB + CloudFormation emulator) on a loopback port …')
  moto = await startMoto()
  clients = testClients(moto.endpoint)
  console.log(`  moto answers on ${moto.endpoint} (${elapsed()})`)

  const items = demoItems()
  console.log(
    `Making a retained orphan: CreateStack ${STACK} (table ${TABLE}, DeletionPolicy Retain), ` +
      `${items.length} items, DeleteStack …`
  )
  const { stackId } = await makeRetainedOrphan(clients, {
    stackName: STACK,
    tableName: TABLE,
    logicalId: LOGICAL_ID,
    properties: TABLE_PROPERTIES,
    items
  })
  console.log(`  stack ${stackId} is DELETE_COMPLETE; ${TABLE} stayed with its data (${elapsed()})`)

  console.log(
    `Running ${relative(REPO_ROOT, BUNDLE)} as the runner does: stage ${STAGE}, strategy report, ` +
      `template ${relative(REPO_ROOT, CDK_OUT)} …`
  )
  const run = await runBundle({
    inputs: { stage: STAGE, strategy: 'report', template: CDK_OUT, comment: 'false' },
    awsEndpoint: moto.endpoint,
    workspace,
    timeoutMs: 45_000
  })

  heading('Job summary (GITHUB_STEP_SUMMARY)')
  console.log(run.summary.trim() ? forTerminal(run.summary) : '(empty)')

  heading('Outputs (GITHUB_OUTPUT)')
  for (const [name, value] of Object.entries(run.outputs)) {
    if (name === 'plan') continue
    console.log(`${name}: ${value}`)
  }
  if (run.outputs.plan !== undefined) console.log(`plan: ${planDigest(run.outputs.plan)}`)

  if (run.code !== 0) {
    heading(`The action exited with code ${run.code}`)
    console.log([run.stdout.trim(), run.stderr.trim()].filter(Boolean).join('\n'))
    return 1
  }
  console.log(`\nDone in ${elapsed()}. Nothing was changed: report mode only reads.`)
  return 0
}

// The AWS SDK warns once that its 2027 releases need Node 22; the action itself runs on node24
// and the warning says nothing about this demo, so it is kept out of the output.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void
process.emitWarning = (warning: string | Error, ...rest: unknown[]): void => {
  const name = warning instanceof Error ? warning.name : String(warning)
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type
  if (name.includes('NodeVersionSupportWarning') || type === 'NodeVersionSupportWarning') return
  emitWarning(warning, ...rest)
}

process.once('SIGINT', onSignal)
process.once('SIGTERM', onSignal)

let code = 1
try {
  code = await main()
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
} finally {
  await cleanup()
}
process.exit(code)
