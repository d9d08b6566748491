import { createClients, type AwsClients, type ClientOptions } from '../aws/clients.js'
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
