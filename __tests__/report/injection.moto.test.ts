/**
 * Reports never carry table data, and cannot be hijacked by it. Items whose keys hold links, an
 * image, a mention, HTML, a heading and backticks, and attribute names that do too, go through
 * every path that names an item or an attribute, on moto, with the real code:
 *   - pre-deploy backup-restore: the export's key check refuses the delete (key misfit) and the
 *     differences name the attribute;
 *   - restore: an item that does not fit the target's key schema (the pre-check), and an item
 *     DynamoDB refuses with a message that quotes its value (through the tamper proxy).
 * The job summary and the PR comment are rendered from each result and checked with a real
 * markdown tokenizer: no link, image, mention, HTML or heading from the data, and no key value at
 * all, in them, in the step details and state notes, or in any log line.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { AwsClients } from '../../src/aws/clients.js'
import { code } from '../../src/errors.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { restoreBackups } from '../../src/execute/restore-backups.js'
import { renderComment, renderReport, type ReportContext } from '../../src/report/markdown.js'
import type { Logger, RunResult } from '../../src/types.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { recordDeleteLocally } from '../../test-support/backup-sets.js'
import {
  decisionOf,
  deps,
  fakeTime,
  makeInputs,
  runCheck,
  startRecordedMoto,
  stopRecordedMoto,
  workspace,
  type RecordedMoto,
  type Workspace
} from '../../test-support/execution.js'
import { inspectMarkdown } from '../../test-support/markdown-check.js'
import { makeUnmanagedTable, tableTemplate, type Item } from '../../test-support/orphans.js'
import { startTamperProxy } from '../../test-support/scan-tamper-proxy.js'

const TABLE = 'pr-5-evil'
const STACK = 'pr-5-db'
/** Every key value carries this marker: it must appear nowhere. */
const SECRET = 'KEYSECRET'
const EVIL = '[x](https://e.example) ![i](https://e.example/i.png) @octocat <b>x</b> # h'
const ATTR = 'at`tr [a](https://attr.example) @attrmention <i>y</i> # H2'
const ATTR2 = '``k`` ![img](https://attr.example/i.png) @team/x <script>'
const OWN_HEADINGS = [
  /^(✅|🧪|🛑|🔧|♻️|❌|👀)/u,
  /^Stack `pr-5-db`( · `[a-z0-9-]+`)*$/,
  /^\(no stack\)$/,
  /^(Notes|What was done|What a real run would do|Backups|Restore|Warnings)$/
]

const items: Item[] = Array.from({ length: 3 }, (_, i) => ({
  pk: { S: `${SECRET}-${i} ${EVIL} \`tick\` \`\`two\`\`` },
  sk: { S: `${SECRET}-sk-${i}` },
  [ATTR]: { S: `not a number ${i}` }
}))

/** The template adds an LSI keyed on ATTR as a number: the table must be re-created, and no item fits. */
const template = tableTemplate({
  tableName: TABLE,
  properties: {
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: ATTR, AttributeType: 'N' }
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: 'byEvil',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: ATTR, KeyType: 'RANGE' }
        ],
        Projection: { ProjectionType: 'ALL' }
      }
    ]
  }
})

let env: RecordedMoto
let clients: AwsClients
let ws: Workspace
const lines: string[] = []
const logger: Logger = {
  info: m => lines.push(m),
  warning: m => lines.push(m),
  debug: m => lines.push(m),
  notice: m => lines.push(m)
}

beforeAll(async () => {
  env = await startRecordedMoto()
  clients = env.clients
  ws = workspace(template)
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items })
}, 60_000)
afterAll(async () => {
  ws.remove()
  await stopRecordedMoto(env)
})

function report(result: RunResult, phase: ReportContext['phase']): ReportContext {
  return {
    stage: 'pr-5',
    strategy: 'auto',
    phase,
    dryRun: false,
    region: 'us-east-1',
    result,
    workspace: ws.dir,
    accountIds: ['123456789012']
  }
}

/** Every text of a result a person or a log can see. */
function everything(ctx: ReportContext): string {
  return [
    renderReport(ctx),
    renderComment(ctx),
    ctx.result.stateNote ?? '',
    ...ctx.result.steps.map(s => `${s.action} ${s.detail}`),
    ...(ctx.result.plan?.entries.flatMap(e => [...e.reasons, ...e.differences.map(d => d.message)]) ?? []),
    ...lines
  ].join('\n')
}

function expectClean(ctx: ReportContext): void {
  for (const markdown of [renderReport(ctx), renderComment(ctx)]) {
    expect(inspectMarkdown(markdown, { ownHeadings: OWN_HEADINGS })).toEqual({
      links: [],
      images: [],
      html: [],
      headings: [],
      autolinkable: []
    })
  }
  expect(everything(ctx)).not.toContain(SECRET)
}

const results: Record<string, ReportContext> = {}

/** The export the pre-deploy run left in backup-dir (the restore step's own, as its run record would say). */
function exports(): string[] {
  // The test deletes the table itself, as the action would have: recorded the same way.
  return readdirSync(join(ws.backupDir, TABLE)).map(stamp =>
    recordDeleteLocally(join(ws.backupDir, TABLE, stamp, 'manifest.json'))
  )
}

describe('pre-deploy: the export key check and the differences', () => {
  it('backup-restore refuses the delete naming the first misfit by file, line and key hash', async () => {
    const inputs = makeInputs(ws, { stage: 'pr-5', stackName: STACK, strategy: 'auto', awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(decisionOf(check, TABLE)).toBe('backup-restore')
    const entry = check.plan.entries[0]
    expect(entry?.differences.map(d => d.message).join(' ')).toContain('byEvil')
    const { result } = await executePlan(check, inputs, { ...deps(clients), logger, clock: fakeTime() })

    expect(result.outcome).toBe('blocked')
    expect(result.stateNote).toMatch(
      /Refusing to delete pr-5-evil: 3 of 3 items do not fit the new table's keys .*first: the item at data\/segment-\d+-of-\d+\.json\.gz line \d+ \(key hash [0-9a-f]{12}\): index key attribute /
    )
    expect(result.stateNote).toContain(code(ATTR))
    results.preDeploy = report(result, 'pre-deploy')
    expectClean(results.preDeploy)
  })
})

describe('restore: the pre-check and an item DynamoDB refuses', () => {
  it('an item that does not fit the target keys is named by file, line and key hash', async () => {
    // The deploy created the table with another key (named ATTR2): no backed-up item has it.
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: TABLE }))
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: ATTR2, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: ATTR2, AttributeType: 'S' }]
      })
    )
    expect(readdirSync(join(ws.backupDir, TABLE))).toHaveLength(1)
    const result = await restoreBackups(oneRegion(clients), {
      backupDir: ws.backupDir,
      stage: 'pr-5',
      s3Bucket: null,
      localManifests: exports(),
      tables: [{ name: TABLE, region: 'us-east-1' }],
      dryRun: false,
      logger,
      clock: fakeTime()
    })

    expect(result.outcome).toBe('failed')
    const failed = result.steps.find(s => s.status === 'failed')
    expect(failed?.detail).toMatch(
      /line \d+: the item \(key hash [0-9a-f]{12}\) cannot go into pr-5-evil: key attribute /
    )
    expect(failed?.detail).toContain(code(ATTR2))
    results.precheck = report(result, 'restore')
    expectClean(results.precheck)
  })

  it('an item DynamoDB refuses, with a message quoting its value: named by place and hash, the value taken out', async () => {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: TABLE }))
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })
    const proxy = await startTamperProxy({
      target: env.rec.endpoint,
      fail: [
        {
          operation: 'BatchWriteItem',
          status: 400,
          type: 'ValidationException',
          // As DynamoDB does: the message quotes a value of the item sent.
          message: request => {
            const sent = (request as { RequestItems: Record<string, { PutRequest: { Item: Item } }[]> })
              .RequestItems[TABLE]?.[0]?.PutRequest.Item
            return `The parameter cannot be converted to a numeric value: ${sent?.sk?.S ?? ''} ${EVIL}`
          }
        }
      ]
    })
    const viaProxy = testClients(proxy.endpoint, { maxAttempts: 1 })
    try {
      const result = await restoreBackups(oneRegion(viaProxy), {
        backupDir: ws.backupDir,
        stage: 'pr-5',
        s3Bucket: null,
        localManifests: exports(),
        tables: [{ name: TABLE, region: 'us-east-1' }],
        dryRun: false,
        logger,
        clock: fakeTime()
      })
      expect(result.outcome).toBe('failed')
      const failed = result.steps.find(s => s.status === 'failed')
      expect(failed?.detail).toMatch(
        /the item at data\/segment-\d+-of-\d+\.json\.gz line \d+ \(key hash [0-9a-f]{12}\) was refused: .*converted to a numeric value: ‹value›/
      )
      results.refused = report(result, 'restore')
      expectClean(results.refused)
    } finally {
      destroyClients(viaProxy)
      await proxy.stop()
    }
  })

  it('the restore comment that tells the whole story (pre-deploy report inside) is clean too', () => {
    const story: ReportContext = { ...(results.refused as ReportContext), earlierReport: results.preDeploy }
    expectClean(story)
    expect(renderComment(story)).toContain('Before the deploy (pre-deploy step)')
  })
})
