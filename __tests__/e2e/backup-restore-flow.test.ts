/**
 * The whole PR-preview story, end to end with the committed bundle on moto: a retained orphan with
 * data and a blocking difference → pre-deploy (auto) backs it up and deletes it → the deploy
 * (CreateStack) → phase: restore loads and verifies the items → one PR comment tells the story.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import {
  createStackAndWait,
  makeRetainedOrphan,
  makeUnmanagedTable,
  tableTemplate,
  type Item
} from '../../test-support/orphans.js'
import { startGitHubApi, type GitHubApi } from '../../test-support/github-api.js'
import { startArtifactService, type ArtifactService } from '../../test-support/artifact-service.js'
import { readManifest } from '../../src/data/manifest.js'
import { relative, dirname } from 'node:path'
import { runBundle, type BundleRun } from '../../test-support/run-bundle.js'
import { canonicalItem } from '../../src/data/digest.js'
import { sdkItemToWire } from '../../src/data/dynamodb-json.js'
import type { AwsClients } from '../../src/aws/clients.js'

const STAGE = 'pr-9'
const TABLE = 'pr-9-orders'
const STACK = 'pr-9-orders-stack'
const PR = 9
const MARKER = `<!-- dynamodb-orphan-guard:${STAGE} -->`

/** The template adds a local secondary index: a blocking difference (LSIs need a new table). */
const template = tableTemplate({
  tableName: TABLE,
  logicalId: 'OrdersTableA1B2C3D4',
  deletionPolicy: 'Retain',
  properties: {
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'status', AttributeType: 'S' }
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: 'byStatus',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'status', KeyType: 'RANGE' }
        ],
        Projection: { ProjectionType: 'ALL' }
      }
    ]
  }
})

const items: Item[] = Array.from({ length: 60 }, (_, i) => ({
  pk: { S: `customer#${i % 7}` },
  sk: { S: `order#${String(i).padStart(4, '0')}` },
  status: { S: i % 3 === 0 ? 'shipped' : 'open' },
  total: { N: `${i}.99` },
  lines: { L: [{ M: { sku: { S: `sku-${i}` }, qty: { N: String(i % 5) } } }] },
  tags: { SS: ['a', `t${i}`] },
  blob: { B: new Uint8Array([0, i, 255]) }
}))

let moto: MotoServer
let github: GitHubApi
let artifacts: ArtifactService
let clients: AwsClients
let workspace: string

async function tableContent(): Promise<string[]> {
  const out: Record<string, AttributeValue>[] = []
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined
  do {
    const page = await clients.dynamodb.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey }))
    out.push(...(page.Items ?? []))
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey)
  return out.map(i => canonicalItem(sdkItemToWire(i))).sort()
}

function run(inputs: Record<string, string>, pullRequest?: number): Promise<BundleRun> {
  return runBundle({
    inputs: {
      stage: STAGE,
      template: 'infra/orders.template.json',
      'stack-name': STACK,
      'backup-dir': 'backups',
      ...inputs
    },
    awsEndpoint: moto.endpoint,
    githubApiUrl: github.url,
    pullRequest,
    workspace,
    // The runner's artifact service: every run could upload; only upload-artifact: true does.
    env: { ACTIONS_RUNTIME_TOKEN: artifacts.runtimeToken, ACTIONS_RESULTS_URL: `${artifacts.url}/` }
  })
}

function ourComments(): { id: number; body: string }[] {
  return github.comments(PR).filter(c => c.body.includes(MARKER))
}

beforeAll(async () => {
  moto = await startMoto()
  github = await startGitHubApi()
  artifacts = await startArtifactService()
  clients = testClients(moto.endpoint)
  workspace = mkdtempSync(join(tmpdir(), 'orphan-guard-flow-'))
  const infra = join(workspace, 'infra')
  mkdirSync(infra, { recursive: true })
  writeFileSync(join(infra, 'orders.template.json'), JSON.stringify(template, null, 2))
  // The orphan: same keys, no LSI, created by a stack that was deleted with RETAIN.
  await makeRetainedOrphan(clients, {
    stackName: STACK,
    tableName: TABLE,
    logicalId: 'OrdersTableA1B2C3D4',
    items
  })
  github.seed(PR, 3)
}, 120_000)

afterAll(async () => {
  destroyClients(clients)
  await github?.stop()
  await artifacts?.stop()
  await moto?.stop()
})

describe('PR preview flow with strategy auto', () => {
  let before: string[]
  let preDeploy: BundleRun

  it('pre-deploy backs the orphan up (on-demand + export), verifies, and deletes it', async () => {
    before = await tableContent()
    expect(before).toHaveLength(60)
    preDeploy = await run({ strategy: 'auto' }, PR)
    expect([preDeploy.code, preDeploy.errors]).toEqual([0, []])
    expect(preDeploy.outputs.outcome).toBe('resolved')
    const planned = JSON.parse(preDeploy.outputs.plan!) as {
      table: string
      decision: string
      differences: unknown[]
    }[]
    expect(planned.map(p => [p.table, p.decision])).toEqual([[TABLE, 'backup-restore']])
    const manifests = JSON.parse(preDeploy.outputs['backup-manifests']!) as string[]
    expect(manifests).toHaveLength(1)
    expect(existsSync(manifests[0]!)).toBe(true)
    expect(JSON.parse(preDeploy.outputs['backup-arns']!)).toEqual([
      expect.stringContaining(`table/${TABLE}/backup/`)
    ])
    await expect(tableContent()).rejects.toThrow(/not found|ResourceNotFound|non-existent/i)
    // upload-artifact defaults to false: the table data stays on the runner (and in AWS).
    expect(artifacts.requests).toEqual([])
    expect(preDeploy.summary).toContain('on the runner only (`upload-artifact` is off)')
    // The write fence waits (real clock) for the resource policy to take effect before the last scan.
  }, 60_000)

  it('a second pre-deploy run right after finds nothing to do', async () => {
    const again = await run({ strategy: 'auto', comment: 'false' }, PR)
    expect(again.code).toBe(0)
    expect(again.outputs.outcome).toBe('nothing-to-do')
  })

  it('the deploy creates the table from the template', async () => {
    await createStackAndWait(clients, STACK, template)
    expect(await tableContent()).toEqual([])
  })

  it('phase restore loads every item back, verified, and updates the same PR comment', async () => {
    const restored = await run({ phase: 'restore' }, PR)
    expect([restored.code, restored.errors]).toEqual([0, []])
    expect(restored.outputs.outcome).toBe('restored')
    expect(restored.outputs['restored-items']).toBe('60')
    expect(await tableContent()).toEqual(before)
    const comments = ourComments()
    expect(comments).toHaveLength(1)
    expect(comments[0]!.body).toMatch(/restored/i)
    expect(comments[0]!.body).toContain('Before the deploy')
    expect(comments[0]!.body).toContain('backup-restore')
  })

  it('running phase restore again restores nothing twice', async () => {
    const again = await run({ phase: 'restore', comment: 'false' }, PR)
    expect(again.code).toBe(0)
    expect(again.outputs['restored-items']).toBe('0')
    expect(await tableContent()).toEqual(before)
  })

  it('a workflow_dispatch run with pr-number comments on that PR (the same sticky comment)', async () => {
    const [before] = ourComments()
    const dispatch = await run({ strategy: 'report', 'pr-number': String(PR) })
    expect(dispatch.code).toBe(0)
    const after = ourComments()
    expect(after.map(c => c.id)).toEqual([before!.id])
    expect(after[0]!.body).not.toEqual(before!.body)
  })
})

describe('a key-schema change whose items would not fit the new keys', () => {
  it('is refused after the export: the table and its items stay, the step fails with instructions', async () => {
    const table = 'pr-9-profiles'
    const stack = 'pr-9-profiles-stack'
    await makeRetainedOrphan(clients, {
      stackName: stack,
      tableName: table,
      items: [
        { pk: { S: 'u1' }, sk: { S: 'profile' } },
        { pk: { S: 'u2' }, sk: { S: 'profile' } }
      ]
    })
    const keyed = tableTemplate({
      tableName: table,
      deletionPolicy: 'Retain',
      keys: { partition: { name: 'userId', type: 'S' } }
    })
    writeFileSync(join(workspace, 'infra', 'profiles.template.json'), JSON.stringify(keyed))
    const r = await run({ template: 'infra/profiles.template.json', 'stack-name': stack, comment: 'false' })
    expect(r.code).not.toBe(0)
    expect(r.outputs.outcome).toBe('blocked')
    expect(r.errors.join('\n')).toMatch(/2 of 2 items do not fit the new table's keys \(`userId` \(S\)\)/)
    const left = await clients.dynamodb.send(new ScanCommand({ TableName: table }))
    expect(left.Count).toBe(2)
  })
})

describe("an old backup from today's scripts (`aws dynamodb scan` output)", () => {
  it('restores through phase: restore with backup-dir naming the file and tables naming the target', async () => {
    const table = 'pr-9-legacy'
    await makeUnmanagedTable(clients.dynamodb, { tableName: table })
    const scanOutput = {
      Items: [
        { pk: { S: 'a' }, sk: { S: '1' }, n: { N: '12345678901234567890123456789012345678' } },
        { pk: { S: 'b' }, sk: { S: '2' }, bin: { B: 'AAEC/w==' }, ss: { SS: ['x', 'y'] } }
      ],
      Count: 2,
      ScannedCount: 2,
      ConsumedCapacity: null
    }
    writeFileSync(join(workspace, 'pr-9-legacy-20250125-120000.json'), JSON.stringify(scanOutput, null, 2))
    const r = await run({
      phase: 'restore',
      'backup-dir': 'pr-9-legacy-20250125-120000.json',
      tables: table,
      comment: 'false'
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('restored')
    expect(r.outputs['restored-items']).toBe('2')
    const back = await clients.dynamodb.send(new ScanCommand({ TableName: table }))
    expect(back.Items?.map(i => canonicalItem(sdkItemToWire(i))).sort()).toEqual(
      scanOutput.Items.map(i => canonicalItem(i as never)).sort()
    )
  })
})

describe('upload-artifact: true', () => {
  it("uploads this run's export (manifest and data files) and nothing else from backup-dir, stored, with the retention asked for", async () => {
    const table = 'pr-9-events'
    const stack = 'pr-9-events-stack'
    await makeRetainedOrphan(clients, { stackName: stack, tableName: table, items: items.slice(0, 5) })
    const lsi = tableTemplate({
      tableName: table,
      deletionPolicy: 'Retain',
      properties: template.Resources?.OrdersTableA1B2C3D4?.Properties ?? {}
    })
    writeFileSync(
      join(workspace, 'infra', 'events.template.json'),
      JSON.stringify(lsi).replaceAll(TABLE, table)
    )
    // Not the run's: another file in backup-dir, and the first flow's backups.
    mkdirSync(join(workspace, 'backups'), { recursive: true })
    writeFileSync(join(workspace, 'backups', '.env'), 'SECRET=do-not-upload')
    const r = await run({
      template: 'infra/events.template.json',
      'stack-name': stack,
      'upload-artifact': 'true',
      'artifact-retention-days': '3',
      comment: 'false'
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('resolved')
    const [manifestPath] = JSON.parse(r.outputs['backup-manifests']!) as string[]
    const manifest = await readManifest(manifestPath!)
    const backups = join(workspace, 'backups')
    const own = [manifestPath!, ...manifest.dataFiles.map(f => join(dirname(manifestPath!), f.path))].map(f =>
      relative(backups, f)
    )
    const uploaded = artifacts.artifacts.at(-1)!
    expect(uploaded.name).toMatch(/^dynamodb-orphan-guard-pr-9-\d+$/)
    const entries = artifacts.entries(uploaded.name)
    expect(entries.map(e => e.name).sort()).toEqual(own.sort())
    expect(entries.every(e => e.method === 0)).toBe(true)
    const days = (Date.parse(String(uploaded.create.expires_at)) - Date.now()) / 86_400_000
    expect(Math.round(days)).toBe(3)
    expect(r.summary).toContain(
      `in the workflow artifact [\`${uploaded.name}\`](https://github.com/acme/app/actions/runs/4242/artifacts/${uploaded.id}) (kept 3 days)`
    )
  })
})
