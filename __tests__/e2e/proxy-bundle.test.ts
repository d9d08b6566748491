/**
 * Self-hosted runners behind a proxy: the committed bundle honours HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY for AWS calls (aws/proxy.ts) and GitHub calls (@actions/github does by itself). A
 * loopback forward proxy started here records every request and CONNECT; the endpoints are names
 * under `.test` that only the proxy knows (it routes them to moto and the GitHub stand-in), so a
 * call that skipped the proxy would fail. With the endpoints on 127.0.0.1 (the emulators), calls
 * go direct although a proxy is set.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { join } from 'node:path'
import type { AwsClients } from '../../src/aws/clients.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startForwardProxy, type ForwardProxy } from '../../test-support/forward-proxy.js'
import { startGitHubApi, type GitHubApi } from '../../test-support/github-api.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, sampleItems } from '../../test-support/orphans.js'
import { REPO_ROOT, runBundle } from '../../test-support/run-bundle.js'

const CDK_OUT = join(REPO_ROOT, '__fixtures__', 'cdk-out-pr-5')
const PR = 23
let moto: MotoServer
let github: GitHubApi
let proxy: ForwardProxy
let clients: AwsClients
let awsHost = ''
let githubHost = ''

beforeAll(async () => {
  moto = await startMoto()
  github = await startGitHubApi()
  clients = testClients(moto.endpoint)
  await makeUnmanagedTable(clients.dynamodb, { tableName: 'pr-5-main-table', items: sampleItems(2) })
  const motoPort = new URL(moto.endpoint).port
  const githubPort = new URL(github.url).port
  awsHost = `aws.test:${motoPort}`
  githubHost = `github.test:${githubPort}`
  proxy = await startForwardProxy({
    [awsHost]: `127.0.0.1:${motoPort}`,
    [githubHost]: `127.0.0.1:${githubPort}`
  })
}, 120_000)

afterAll(async () => {
  destroyClients(clients)
  await proxy?.stop()
  await github?.stop()
  await moto?.stop()
})

describe('the bundle behind a proxy', () => {
  it('sends AWS and GitHub calls through HTTP_PROXY / HTTPS_PROXY', async () => {
    const r = await runBundle({
      inputs: { template: CDK_OUT, stage: 'pr-5', strategy: 'report' },
      awsEndpoint: `http://${awsHost}`,
      githubApiUrl: `http://${githubHost}`,
      pullRequest: PR,
      env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com' }
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs['has-orphans']).toBe('true')
    const aws = proxy.requests.filter(line => line.startsWith(`POST http://${awsHost}/`))
    expect(aws.length).toBeGreaterThan(3)
    const toGitHub = [...proxy.requests, ...proxy.connects].filter(line => line.includes(githubHost))
    expect(toGitHub.length).toBeGreaterThan(0)
    expect(github.comments(PR).filter(c => c.body.includes('dynamodb-orphan-guard:pr-5'))).toHaveLength(1)
  })

  it('reaches endpoints on 127.0.0.1 (the emulators) directly, proxy or not', async () => {
    proxy.requests.length = 0
    proxy.connects.length = 0
    const r = await runBundle({
      inputs: { template: CDK_OUT, stage: 'pr-5', strategy: 'report' },
      awsEndpoint: moto.endpoint,
      githubApiUrl: github.url,
      pullRequest: PR,
      env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url }
    })
    expect([r.code, r.errors]).toEqual([0, []])
    expect(r.outputs['has-orphans']).toBe('true')
    expect([...proxy.requests, ...proxy.connects]).toEqual([])
  })
})
