import { ClientPool, createClients, type AwsClients, type ClientOptions } from '../aws/clients.js'
import { installDataMiddleware } from '../data/wire-middleware.js'

/**
 * The clients a run uses: the SDK clients of aws/clients.ts, with the data engine's middlewares
 * on the DynamoDB client from creation (before its first request, as its cached middleware chains
 * require).
 */
export function createRunClients(opts: ClientOptions): AwsClients {
  const clients = createClients(opts)
  installDataMiddleware(clients.dynamodb)
  return clients
}

/**
 * The run's clients per region: `opts.region` (the action's `aws-region`) is the default, and
 * every other region a stack is pinned to gets its own set on first use, made as createRunClients
 * makes them. main.ts closes them all when the phase is over.
 */
export function createRunClientPool(opts: ClientOptions): ClientPool {
  return new ClientPool(opts.region, region => createRunClients({ ...opts, region }))
}
