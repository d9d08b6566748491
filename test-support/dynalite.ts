/**
 * Starts dynalite (pure-JS DynamoDB) in memory on a free loopback port.
 * Tables leave CREATING/DELETING at once (createTableMs: 0, …) so tests never wait.
 */
import { createRequire } from 'node:module'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

interface DynaliteOptions {
  createTableMs?: number
  deleteTableMs?: number
  updateTableMs?: number
  maxItemSizeKb?: number
  path?: string
}

const require = createRequire(import.meta.url)

export interface RunningDynalite {
  endpoint: string
  stop(): Promise<void>
}

export async function startDynalite(options: DynaliteOptions = {}): Promise<RunningDynalite> {
  // dynalite is CommonJS without types; its factory returns an http.Server.
  const dynalite = require('dynalite') as (opts: DynaliteOptions) => Server
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...options })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.()
        server.close(err => (err ? reject(err) : resolve()))
      })
  }
}
