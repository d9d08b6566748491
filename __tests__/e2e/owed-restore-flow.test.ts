/**
 * Owed restores live in AWS, end to end with the committed bundle on moto. A table with data and a
 * blocking difference is backed up and deleted by the pre-deploy step; the deploy fails (it does
 * not run); the next pre-deploy run, on a fresh runner (an empty workspace), reports the owed
 * restore in its outputs, job summary and sticky comment; after the deploy, the restore step on a
 * fresh runner loads the backup from AWS alone (the S3 copy, or without s3-bucket the on-demand
 * backup) and the table holds exactly what it held; a third run reports nothing to do.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import type { AwsClients } from '../../src/aws/clients.js'
import { describeTableOrNull, listAllTags } from '../../src/aws/dynamodb-read.js'
import { RESTORED_TAG } from '../../src/data/backup-set.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { tableContent } from '../../test-support/execution.js'
import { startGitHubApi, type GitHubApi } from '../../test-support/github-api.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  makeRetainedOrphan,
  tableTemplate,
  type Item
} from '../../test-support/orphans.js'
import { runBundle, type BundleRun } from '../../test-support/run-bundle.js'

const BUCKET = 'orphan-guard-copies'

let moto: MotoServer
let github: GitHubApi
let clients: AwsClients

beforeAll(async () => {
  moto = await startMoto()
  github = await startGitHubApi()
  clients = testClients(moto.endpoint)
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
}, 120_000)
afterAll(async () => {
  if (clients) destroyClients(clients)
  await github?.stop()
  await moto?.stop()
})

interface Pending {
  table: string
  source: string
  backup: string
  takenAt: string
}

const items = (n: number): Item[] =>
  Array.from({ length: n }, (_, i) => ({
    pk: { S: `customer#${i % 5}` },
    sk: { S: `order#${String(i).padStart(4, '0')}` },
    status: { S: i % 3 === 0 ? 'shipped' : 'open' },
    total: { N: `${i}.25` },
    tags: { SS: ['a', `t${i}`] }
  }))

/** One PR's preview: its own stage, table, stack and template (an added LSI: a blocking difference). */
function preview(pr: number, inputs: Record<string, string>) {
  const stage = `pr-${pr}`
  const table = `${stage}-orders`
  const stack = `${stage}-orders-stack`
  const template = tableTemplate({
    tableName: table,
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
  /** A fresh runner: an empty workspace with the template checked out, nothing else. */
  const freshRunner = (): string => {
    const workspace = mkdtempSync(join(tmpdir(), `orphan-guard-${stage}-runner-`))
    mkdirSync(join(workspace, 'infra'))
    writeFileSync(join(workspace, 'infra', 'orders.template.json'), JSON.stringify(template))
    return workspace
  }
  const run = (workspace: string, extra: Record<string, string> = {}): Promise<BundleRun> =>
    runBundle({
      inputs: {
        stage,
        template: 'infra/orders.template.json',
        'stack-name': stack,
        'backup-dir': 'backups',
        ...inputs,
        ...extra
      },
      awsEndpoint: moto.endpoint,
      githubApiUrl: github.url,
      pullRequest: pr,
      workspace,
      timeoutMs: 120_000
    })
  const comment = (): string =>
    github.comments(pr).find(c => c.body.includes(`<!-- dynamodb-orphan-guard:${stage} -->`))?.body ?? ''
  return { stage, table, stack, template, freshRunner, run, comment }
}

function pending(r: BundleRun): Pending[] {
  return JSON.parse(r.outputs['pending-restores'] ?? 'null') as Pending[]
}

const flows: Array<{ label: string; pr: number; inputs: Record<string, string>; source: string }> = [
  {
    label: 'with s3-bucket: from the S3 copy',
    pr: 21,
    inputs: { 's3-bucket': `${BUCKET}/previews` },
    source: 's3'
  },
  { label: 'without s3-bucket: from the on-demand backup', pr: 22, inputs: {}, source: 'aws-backup' }
]

describe.each(flows)('$label', ({ pr, inputs, source }) => {
  const p = preview(pr, inputs)
  const workspaces: string[] = []
  const fresh = (): string => {
    const w = p.freshRunner()
    workspaces.push(w)
    return w
  }
  let before: string[] | null
  afterAll(() => {
    for (const w of workspaces) rmSync(w, { recursive: true, force: true })
  })

  it('pre-deploy backs the table up and deletes it; the restore it owes is in its outputs', async () => {
    await makeRetainedOrphan(clients, {
      stackName: p.stack,
      tableName: p.table,
      logicalId: 'OrdersTableA1B2C3D4',
      items: items(45)
    })
    before = await tableContent(clients, p.table)
    github.seed(pr, 1)
    const r = await p.run(fresh())
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('resolved')
    expect(await tableContent(clients, p.table)).toBeNull()
    expect(r.outputs['restore-needed']).toBe('true')
    expect(pending(r)).toEqual([
      {
        table: p.table,
        source: 'backup-dir',
        backup: expect.stringMatching(/manifest\.json$/),
        takenAt: expect.any(String)
      }
    ])
  }, 120_000)

  it('the deploy fails; the next pre-deploy run on a fresh runner finds the owed restore in AWS and says so everywhere', async () => {
    const r = await p.run(fresh())
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('nothing-to-do')
    expect(r.outputs['restore-needed']).toBe('true')
    const [owed] = pending(r)
    expect(owed).toMatchObject({ table: p.table, source })
    expect(owed?.backup).toMatch(
      source === 's3'
        ? new RegExp(`^s3://${BUCKET}/previews/${p.stage}/${p.table}/\\d{8}T\\d{6}Z/manifest\\.json$`)
        : new RegExp(`^arn:aws:dynamodb:us-east-1:123456789012:table/${p.table}/backup/`)
    )
    expect(r.summary).toContain('1 table still owes a restore')
    expect(r.summary).toContain(owed?.backup)
    // The PR comment names the same backup, with the account id masked (issue 11).
    const comment = p.comment()
    expect(comment).toContain('1 table still owes a restore')
    expect(comment).toContain(owed?.backup?.replace('123456789012', 'XXXXXXXXXXXX'))
    expect(comment).not.toContain('123456789012')
  }, 120_000)

  it('after the deploy, the restore step on a fresh runner restores identical content from AWS alone', async () => {
    await createStackAndWait(clients, p.stack, p.template)
    const r = await p.run(fresh(), { phase: 'restore' })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('restored')
    expect(r.outputs['restored-items']).toBe('45')
    expect(r.outputs['restore-needed']).toBe('false')
    expect(await tableContent(clients, p.table)).toEqual(before)
    const arn = (await describeTableOrNull(clients.dynamodb, p.table))?.TableArn as string
    expect((await listAllTags(clients.dynamodb, arn))[RESTORED_TAG]).toMatch(
      new RegExp(`^${p.stage}/\\d{8}T\\d{6}Z$`)
    )
    expect(p.comment()).toMatch(/Restored: 45 items/)
  }, 120_000)

  it('a third run reports nothing to do, and the comment no longer asks for a restore', async () => {
    const r = await p.run(fresh())
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('nothing-to-do')
    expect(r.outputs['restore-needed']).toBe('false')
    expect(pending(r)).toEqual([])
    expect(p.comment()).not.toContain('owes a restore')
    const restore = await p.run(fresh(), { phase: 'restore' })
    expect([restore.outputs.outcome, restore.outputs['restored-items']]).toEqual(['nothing-to-do', '0'])
  }, 120_000)
})
