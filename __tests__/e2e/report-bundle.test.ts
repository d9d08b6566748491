/**
 * End to end: the committed dist/index.js, run exactly as the GitHub runner runs it, against moto
 * (behind a recording proxy) and a loopback GitHub API stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { join } from 'node:path'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { testClients, destroyClients } from '../../test-support/aws-clients.js'
import { makeFixtureOrphans } from '../../test-support/orphans.js'
import { startGitHubApi, type GitHubApi } from '../../test-support/github-api.js'
import {
  isReadOnlyOperation,
  startRecordingProxy,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
import { REPO_ROOT, runBundle, type BundleRun } from '../../test-support/run-bundle.js'
import type { AwsClients } from '../../src/aws/clients.js'
import { CreateBucketCommand } from '@aws-sdk/client-s3'

const CDK_OUT = join(REPO_ROOT, '__fixtures__', 'cdk-out-pr-5')
const MARKER = '<!-- dynamodb-orphan-guard:pr-5 -->'
const PR = 17

let moto: MotoServer
let proxy: RecordingProxy
let github: GitHubApi
let clients: AwsClients

beforeAll(async () => {
  moto = await startMoto()
  proxy = await startRecordingProxy(moto.endpoint)
  github = await startGitHubApi()
  clients = testClients(moto.endpoint)
  // A real retained orphan (the database stack was deleted, its main table stayed with data), and
  // the api cache table someone made by hand, empty.
  await makeFixtureOrphans(clients)
  github.seed(PR, 150)
}, 120_000)

afterAll(async () => {
  destroyClients(clients)
  await github?.stop()
  await proxy?.stop()
  await moto?.stop()
})

function run(
  inputs: Record<string, string>,
  pullRequest: number | undefined = PR,
  env?: Record<string, string>
): Promise<BundleRun> {
  return runBundle({
    inputs: { template: CDK_OUT, ...inputs },
    awsEndpoint: proxy.endpoint,
    githubApiUrl: github.url,
    pullRequest,
    env
  })
}

function plan(r: BundleRun): Record<string, unknown>[] {
  return JSON.parse(r.outputs.plan ?? 'null') as Record<string, unknown>[]
}

describe('the bundle in report mode', () => {
  let first: BundleRun

  beforeAll(async () => {
    proxy.calls.length = 0
    first = await run({ stage: 'pr-5', strategy: 'report' })
  })

  it('exits 0 and sets every output', () => {
    expect([first.code, first.errors]).toEqual([0, []])
    expect(first.outputs['has-orphans']).toBe('true')
    expect(JSON.parse(first.outputs.orphans!)).toEqual(['pr-5-api-cache', 'pr-5-main-table'])
    expect(first.outputs.outcome).toBe('dry-run')
    expect(first.outputs['backup-manifests']).toBe('[]')
    expect(first.outputs['backup-arns']).toBe('[]')
    expect(first.outputs['restored-items']).toBe('0')
  })

  it('plans one object per named table with exactly the public keys', () => {
    const entries = plan(first)
    for (const e of entries) {
      expect(Object.keys(e)).toEqual([
        'table',
        'region',
        'stack',
        'logicalId',
        'exists',
        'owner',
        'hasData',
        'differences',
        'decision',
        'reasons',
        'copy'
      ])
    }
    const byTable: Record<string, Record<string, unknown>> = Object.fromEntries(
      entries.map(e => [String(e.table), e])
    )
    expect(byTable['pr-5-main-table']).toMatchObject({
      stack: 'pr-5-aws-boilerplate-database',
      logicalId: 'MainTable74195DAB',
      exists: true,
      owner: 'retained',
      hasData: true,
      decision: 'import'
    })
    expect(byTable['pr-5-api-cache']).toMatchObject({
      stack: 'pr-5-aws-boilerplate-api',
      exists: true,
      owner: 'unmanaged',
      hasData: false,
      decision: 'delete'
    })
    expect(byTable['pr-5-aws-boilerplate-database-sessions']).toMatchObject({
      exists: false,
      owner: null,
      hasData: null,
      decision: 'none'
    })
  })

  it('logs each stage of the run in a group of its own', () => {
    const groups = first.stdout.split('\n').filter(l => l.startsWith('::group::'))
    expect(groups).toEqual(['::group::Discover', '::group::Inspect', '::group::Plan', '::group::Report'])
    expect(first.stdout.split('\n').filter(l => l === '::endgroup::')).toHaveLength(4)
  })

  it('with RUNNER_DEBUG=1 logs every AWS call (operation, table, duration) and no item data', async () => {
    proxy.calls.length = 0
    const r = await runBundle({
      inputs: { template: CDK_OUT, stage: 'pr-5', strategy: 'report', comment: 'false' },
      awsEndpoint: proxy.endpoint,
      env: { RUNNER_DEBUG: '1' }
    })
    expect(r.code).toBe(0)
    const calls = r.stdout.split('\n').filter(l => l.startsWith('::debug::AWS '))
    expect(calls).toContainEqual(
      expect.stringMatching(/^::debug::AWS DynamoDB\.Scan table=pr-5-main-table: \d+ ms$/)
    )
    expect(calls).toHaveLength(proxy.calls.length)
    expect(r.stdout).not.toMatch(/item-\d/)
  })

  it('writes a job summary with a table per stack and the decision path', () => {
    expect(first.summary).toContain('pr-5-aws-boilerplate-database')
    expect(first.summary).toContain('pr-5-aws-boilerplate-api')
    expect(first.summary).toContain('pr-5-main-table')
    expect(first.summary).toContain('retained')
    expect(first.summary).toContain('```mermaid')
  })

  it('makes only read-only AWS calls', () => {
    const operations = proxy.operations()
    expect(operations.length).toBeGreaterThan(0)
    expect(operations.filter(op => !isReadOnlyOperation(op))).toEqual([])
    expect(operations).toEqual(expect.arrayContaining(['DynamoDB.DescribeTable', 'DynamoDB.Scan']))
  })

  it('posts one sticky comment, found again and updated in place on the second run (150 other comments)', async () => {
    const ours = (): string[] =>
      github
        .comments(PR)
        .filter(c => c.body.includes(MARKER))
        .map(c => String(c.id))
    expect(ours()).toHaveLength(1)
    const [id] = ours()
    const second = await run({ stage: 'pr-5', strategy: 'report' })
    expect(second.code).toBe(0)
    expect(ours()).toEqual([id])
    expect(github.comments(PR)).toHaveLength(151)
    expect(github.requests.some(r => r.method === 'PATCH' && r.path.endsWith(`/comments/${id}`))).toBe(true)
    expect(
      github
        .comments(PR)
        .find(c => String(c.id) === id)!
        .body.startsWith(MARKER)
    ).toBe(true)
  })

  it('on a protected stage the empty orphan is not deleted, and the plan says why', async () => {
    // Unprotected (the first run above), auto would delete the empty table.
    expect(plan(first).find(e => e.table === 'pr-5-api-cache')).toMatchObject({
      hasData: false,
      decision: 'delete'
    })
    const r = await run({
      stage: 'pr-5',
      strategy: 'report',
      'protected-stages': 'pr-*',
      comment: 'false'
    })
    expect(r.code).toBe(0)
    const cache = plan(r).find(e => e.table === 'pr-5-api-cache') as { decision: string; reasons: string[] }
    expect(cache.decision).toBe('import')
    expect(cache.reasons).toContain(
      'It is imported rather than deleted although it is empty, because stage pr-5 is protected (protected-stages), where the action never deletes a table, empty or not.'
    )
    // The log line of the plan says the same.
    expect(r.stdout).toMatch(
      /^pr-5-api-cache \(orphaned, owner unmanaged, empty, .*\) → import: .*imported rather than deleted although it is empty, because stage pr-5 is protected/m
    )
  })

  it("the log's stack count says how many top-level and nested stacks it read", () => {
    // The fixture assembly: the api and database stacks, and one stack nested in the database stack.
    expect(first.stdout).toMatch(
      /^Checking 5 named table\(s\) in 3 stack\(s\) \(2 top-level, 1 nested\) \(cloud-assembly\)\.$/m
    )
  })
})

describe('the bundle with a strategy that acts', () => {
  it('dry-run auto plans, changes nothing and says dry-run', async () => {
    proxy.calls.length = 0
    const r = await run({ stage: 'pr-5', strategy: 'auto', 'dry-run': 'true', comment: 'false' })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('dry-run')
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
  })

  it('dry-run never fails on a plan: exit 0, outcome blocked, one warning annotation per blocked table', async () => {
    const r = await run({ stage: 'pr-5', strategy: 'delete', 'dry-run': 'true', comment: 'false' })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('blocked')
    const blocked = r.warnings.filter(w => / is blocked: /.test(w))
    expect(blocked).toHaveLength(1)
    expect(blocked[0]).toMatch(/pr-5-main-table is blocked: .*allow-data-loss/)
  })

  it('a real run with a blocked decision fails the step with instructions (delete of a table with data)', async () => {
    proxy.calls.length = 0
    const r = await run({ stage: 'pr-5', strategy: 'delete', comment: 'false' })
    expect(r.code).not.toBe(0)
    expect(r.outputs.outcome).toBe('blocked')
    expect(r.errors.join('\n')).toMatch(/pr-5-main-table/)
    expect(r.errors.join('\n')).toMatch(/allow-data-loss/)
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
  })

  it('without a template, a table with data named in tables is never deleted (auto, a real run): blocked, naming the template', async () => {
    proxy.calls.length = 0
    const r = await run({
      stage: 'pr-5',
      strategy: 'auto',
      template: '/nonexistent/cdk.out',
      tables: 'pr-5-main-table',
      comment: 'false'
    })
    expect(r.code).not.toBe(0)
    expect(r.outputs.outcome).toBe('blocked')
    expect(r.errors.join('\n')).toMatch(/No template exists at \/nonexistent\/cdk\.out/)
    expect(proxy.operations().filter(op => !isReadOnlyOperation(op))).toEqual([])
    // "This check may be wrong" is an annotation and a line in the report's first section.
    expect(r.warnings.join('\n')).toMatch(/no template at \/nonexistent\/cdk\.out: checking only the 1 table/)
    const firstSection = r.summary.split('\n### ')[0] ?? ''
    expect(firstSection).toMatch(
      /This check may be incomplete or wrong.*\n(>.*\n)*> - no template at \/nonexistent\/cdk\.out/
    )
  })

  it('report mode keeps working on tables alone: exit 0, the blocked table a warning', async () => {
    const r = await run({
      stage: 'pr-5',
      strategy: 'report',
      template: '/nonexistent/cdk.out',
      tables: 'pr-5-main-table',
      comment: 'false'
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs.outcome).toBe('blocked')
    expect(r.warnings.filter(w => /pr-5-main-table is blocked: /.test(w))).toHaveLength(1)
  })
})

describe('bad input', () => {
  it.each([
    ['strategy', { stage: 'pr-5', strategy: 'nuke' }, /strategy/],
    ['stage with a space', { stage: 'pr 5' }, /stage/],
    ['stage with ;', { stage: 'pr-5;rm -rf' }, /stage/],
    ['missing template path', { stage: 'pr-5', template: '/nonexistent/cdk.out' }, /template/],
    [
      'unreadable YAML',
      {
        stage: 'pr-5',
        template: join(REPO_ROOT, '__fixtures__', 'templates', 'unparseable.yaml'),
        'stack-name': 'pr-5-db'
      },
      /unparseable\.yaml/
    ]
  ])(
    '%s: exits non-zero naming the input or file, and calls nothing on AWS',
    async (_name, inputs, message) => {
      proxy.calls.length = 0
      const r = await run(inputs, undefined)
      expect(r.code).not.toBe(0)
      expect(r.errors.join('\n')).toMatch(message)
      expect(proxy.operations()).toEqual([])
    }
  )
})

describe('s3-bucket is checked against AWS before anything else', () => {
  beforeAll(async () => {
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'pr-backups' }))
    const eu = testClients(moto.endpoint, { region: 'eu-west-1' })
    await eu.s3.send(
      new CreateBucketCommand({
        Bucket: 'eu-backups',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' }
      })
    )
    destroyClients(eu)
  })

  it.each([
    [
      'a missing bucket',
      'no-such-backups/orphan-guard',
      /Input 's3-bucket': bucket no-such-backups does not exist/
    ],
    [
      'a bucket in another region',
      'eu-backups',
      /Input 's3-bucket': bucket eu-backups is in eu-west-1, but aws-region is us-east-1/
    ]
  ])(
    '%s: exits non-zero naming s3-bucket; HeadBucket is the only AWS call',
    async (_name, bucket, message) => {
      proxy.calls.length = 0
      const r = await run(
        { stage: 'pr-5', strategy: 'auto', 's3-bucket': bucket, comment: 'false' },
        undefined
      )
      expect(r.code).not.toBe(0)
      expect(r.errors.join('\n')).toMatch(message)
      expect(proxy.operations()).toEqual(['S3.HeadBucket'])
    }
  )

  it('AWS_ENDPOINT_URL_S3=http://localhost:PORT alone: the bucket is addressed path-style and found', async () => {
    proxy.calls.length = 0
    const localhost = proxy.endpoint.replace('127.0.0.1', 'localhost')
    const r = await run(
      { stage: 'pr-5', strategy: 'report', 's3-bucket': 'pr-backups/orphan-guard' },
      undefined,
      {
        AWS_ENDPOINT_URL_S3: localhost
      }
    )
    expect([r.code, r.errors]).toEqual([0, []])
    expect(proxy.calls[0]).toMatchObject({ operation: 'S3.HeadBucket', target: 'pr-backups', status: 200 })
  })
})
