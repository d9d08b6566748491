/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY for the AWS SDK, which does not read them by itself. The
 * decision per destination is @actions/http-client's (getProxyUrl): the one GitHub calls made with
 * @actions/github follow too, so both kinds of call take the same route. Loopback addresses
 * (127.0.0.0/8, localhost, [::1]) always go direct, as there, so emulators stay reachable when a
 * proxy is set for the outside. HTTPS goes through the proxy as a CONNECT tunnel
 * (https-proxy-agent), plain HTTP as absolute-URI requests (http-proxy-agent).
 */
import * as http from 'node:http'
import * as https from 'node:https'
import { getProxyUrl } from '@actions/http-client/lib/proxy'
import { Agent, type AgentConnectOpts } from 'agent-base'
import { HttpProxyAgent } from 'http-proxy-agent'
import { HttpsProxyAgent } from 'https-proxy-agent'

/** The SDK's own default pool for each agent: keep-alive, 50 sockets per host. */
const POOL = { keepAlive: true, maxSockets: 50 }

/** Chooses, per request, a direct connection or the proxy the environment names for its URL. */
export class EnvProxyAgent extends Agent {
  private readonly direct: { http: http.Agent; https: https.Agent }
  private readonly viaProxy = new Map<string, http.Agent>()
  private readonly proxyFor: (url: URL) => URL | undefined

  constructor(
    opts: {
      /** The proxy for a destination, or undefined for a direct connection (default: the environment's). */
      proxyFor?: (url: URL) => URL | undefined
      /** The agents of direct connections (default: keep-alive pools like the SDK's own). */
      direct?: { http: http.Agent; https: https.Agent }
    } = {}
  ) {
    super(POOL)
    this.proxyFor = opts.proxyFor ?? (url => getProxyUrl(url))
    this.direct = opts.direct ?? { http: new http.Agent(POOL), https: new https.Agent(POOL) }
  }

  connect(_req: http.ClientRequest, opts: AgentConnectOpts): http.Agent {
    const host = opts.host?.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host
    const url = new URL(`${opts.secureEndpoint ? 'https' : 'http'}://${host ?? 'localhost'}:${opts.port}`)
    const proxy = this.proxyFor(url)
    if (proxy === undefined) return opts.secureEndpoint ? this.direct.https : this.direct.http
    const key = `${opts.secureEndpoint ? 'https' : 'http'} ${proxy.href}`
    let agent = this.viaProxy.get(key)
    if (agent === undefined) {
      agent = opts.secureEndpoint ? new HttpsProxyAgent(proxy, POOL) : new HttpProxyAgent(proxy, POOL)
      this.viaProxy.set(key, agent)
    }
    return agent
  }

  override destroy(): void {
    this.direct.http.destroy()
    this.direct.https.destroy()
    for (const agent of this.viaProxy.values()) agent.destroy()
    super.destroy()
  }
}

/** Whether the environment names a proxy at all (else the SDK's default agents stay in place). */
export function proxyConfigured(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some(name => (env[name] ?? '') !== '')
}

/** The agents for an SDK client's NodeHttpHandler when a proxy is configured; {} otherwise. */
export function proxyAgents(env: Readonly<Record<string, string | undefined>> = process.env): {
  httpAgent?: http.Agent
  httpsAgent?: https.Agent
} {
  if (!proxyConfigured(env)) return {}
  return { httpAgent: new EnvProxyAgent(), httpsAgent: new EnvProxyAgent() }
}
