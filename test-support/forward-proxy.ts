/**
 * A loopback forward proxy: what HTTPS_PROXY / HTTP_PROXY point at on a self-hosted runner. It
 * records every absolute-URI request (`GET http://host:port/path`, plain HTTP through a proxy) and
 * every CONNECT (`host:port`, HTTPS through a proxy). Requests for a host:port listed in `routes`
 * go to the loopback address given there; the hosts are names under `.test` that resolve nowhere,
 * and no DNS lookup is made for them. Anything else is refused with 502, so no test traffic leaves
 * the machine.
 */
import { createServer, request, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { readBody } from './http-proxy.js'

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY / HTTP_PROXY. */
  url: string
  /** `METHOD http://host:port/path` of each proxied request. */
  requests: string[]
  /** `host:port` of each CONNECT. */
  connects: string[]
  stop(): Promise<void>
}

/** `routes`: `host:port` → the loopback `host:port` that serves it. */
export async function startForwardProxy(routes: Record<string, string> = {}): Promise<ForwardProxy> {
  const sockets = new Set<Socket>()
  const proxy: ForwardProxy = { url: '', requests: [], connects: [], stop: async () => {} }
  const loopback = (hostPort: string): { host: string; port: number } | null => {
    const to = routes[hostPort]
    if (to === undefined) return null
    const [host, port] = to.split(':')
    return host === '127.0.0.1' && port ? { host, port: Number(port) } : null
  }

  const server = createServer((req: IncomingMessage, res) => {
    proxy.requests.push(`${req.method ?? ''} ${req.url ?? ''}`)
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      res.writeHead(400).end('absolute URI expected')
      return
    }
    const to = loopback(target.host)
    if (to === null) {
      res.writeHead(502).end(`forward-proxy: no route to ${target.host}`)
      return
    }
    readBody(req)
      .then(body => {
        const out = request(
          { ...to, method: req.method, path: `${target.pathname}${target.search}`, headers: req.headers },
          up => {
            res.writeHead(up.statusCode ?? 502, up.headers)
            up.pipe(res)
          }
        )
        out.on('error', err => res.writeHead(502).end(String(err)))
        out.end(body)
      })
      .catch((err: unknown) => res.writeHead(502).end(String(err)))
  })
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const hostPort = req.url ?? ''
    proxy.connects.push(hostPort)
    const to = loopback(hostPort)
    if (to === null) {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n')
      return
    }
    const upstream = connect(to.port, to.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.stop = () =>
    new Promise<void>(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  return proxy
}
