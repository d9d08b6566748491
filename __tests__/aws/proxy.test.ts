/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY for AWS calls (aws/proxy.ts). A loopback forward proxy
 * started here records every proxied request and CONNECT; hosts under `.test` are routed by it to
 * a loopback server, and the direct agents resolve them to loopback, so no lookup or traffic leaves
 * the machine. GitHub calls: __tests__/e2e/proxy-bundle.test.ts (@actions/github decides its proxy
 * when it is loaded, from the process's environment).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo, LookupFunction } from 'node:net'
import { EnvProxyAgent, proxyAgents, proxyConfigured } from '../../src/aws/proxy.js'
import { startForwardProxy, type ForwardProxy } from '../../test-support/forward-proxy.js'

let backend: http.Server
let port = 0
let proxy: ForwardProxy
const seen: string[] = []
const saved = { ...process.env }

/** `.test` names resolve to loopback for the direct agents (no DNS lookup). */
const toLoopback = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }])
  else cb(null, '127.0.0.1', 4)
}) as unknown as LookupFunction
const direct = () => ({
  http: new http.Agent({ lookup: toLoopback }),
  https: new https.Agent({ lookup: toLoopback })
})

function get(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, res => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve(`${res.statusCode ?? 0} ${body}`))
      })
      .on('error', reject)
  })
}

function setProxyEnv(env: Record<string, string>): void {
  for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'])
    delete process.env[name]
  Object.assign(process.env, env)
}

beforeAll(async () => {
  backend = http.createServer((req, res) => {
    seen.push(`${req.headers.host ?? ''} ${req.url ?? ''}`)
    res.end('backend')
  })
  await new Promise<void>(resolve => backend.listen(0, '127.0.0.1', resolve))
  port = (backend.address() as AddressInfo).port
  proxy = await startForwardProxy({
    [`api.test:${port}`]: `127.0.0.1:${port}`,
    [`other.test:${port}`]: `127.0.0.1:${port}`
  })
})
afterEach(() => {
  seen.length = 0
  proxy.requests.length = 0
  proxy.connects.length = 0
  process.env = { ...saved }
})
afterAll(async () => {
  await proxy?.stop()
  await new Promise(resolve => backend.close(resolve))
})

describe('AWS calls honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY', () => {
  it('no proxy variable: the SDK keeps its own agents', () => {
    expect(proxyConfigured({})).toBe(false)
    expect(proxyAgents({})).toEqual({})
    expect(proxyConfigured({ HTTPS_PROXY: 'http://proxy:3128' })).toBe(true)
  })

  it('plain HTTP goes through HTTP_PROXY as an absolute-URI request', async () => {
    setProxyEnv({ HTTP_PROXY: proxy.url })
    const agent = new EnvProxyAgent({ direct: direct() })
    expect(await get(`http://api.test:${port}/x`, agent)).toBe('200 backend')
    expect(proxy.requests).toEqual([`GET http://api.test:${port}/x`])
    agent.destroy()
  })

  it('NO_PROXY names go direct; others still through the proxy', async () => {
    setProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.com, api.test' })
    const agent = new EnvProxyAgent({ direct: direct() })
    expect(await get(`http://api.test:${port}/direct`, agent)).toBe('200 backend')
    expect(await get(`http://other.test:${port}/proxied`, agent)).toBe('200 backend')
    expect(proxy.requests).toEqual([`GET http://other.test:${port}/proxied`])
    expect(seen).toEqual([`api.test:${port} /direct`, `other.test:${port} /proxied`])
    agent.destroy()
  })

  it('loopback (the emulators) always goes direct, even with a proxy and no NO_PROXY', async () => {
    setProxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url })
    const agent = new EnvProxyAgent()
    expect(await get(`http://127.0.0.1:${port}/emulator`, agent)).toBe('200 backend')
    expect(proxy.requests).toEqual([])
    agent.destroy()
  })

  it("HTTPS goes through HTTPS_PROXY as a CONNECT tunnel (the SDK client's own requests)", async () => {
    setProxyEnv({ HTTPS_PROXY: proxy.url })
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'https://dynamodb.us-east-1.amazonaws.com',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
      // Direct connections would resolve to loopback: a regression here sends nothing outside either.
      requestHandler: { httpsAgent: new EnvProxyAgent({ direct: direct() }) }
    })
    // The proxy refuses hosts it has no loopback route for: the call fails, and nothing left the machine.
    await expect(client.send(new DescribeTableCommand({ TableName: 't' }))).rejects.toThrow()
    expect(proxy.connects).toEqual(['dynamodb.us-east-1.amazonaws.com:443'])
    client.destroy()
  })
})
