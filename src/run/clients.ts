import { installCallLog } from '../aws/call-log.js'
import { ClientPool, createClients, type AwsClients, type ClientOptions } from '../aws/clients.js'
import { installDataMiddleware } from '../data/wire-middleware.js'

export interface RunClientOptions extends ClientOptions {
  /**
   * Where a debug line for every AWS call goes (operation, table, duration; never item data).
   * Omitted: no call log is installed at all, so the data engine's hot path pays nothing for it.
   */
  callLog?: (line: string) => void
}

/**
 * The clients a run uses: the SDK clients of aws/clients.ts, with the data engine's middlewares
 * on the DynamoDB client from creation (before its first request, as its cached middleware chains
 * require), and the call log on every client when asked for.
 */
export function createRunClients(opts: RunClientOptions): AwsClients {
  const { callLog, ...clientOptions } = opts
  const clients = createClients(clientOptions)
  installDataMiddleware(clients.dynamodb)
  if (callLog) {
    installCallLog(clients.dynamodb, 'DynamoDB', callLog)
    installCallLog(clients.cloudformation, 'CloudFormation', callLog)
    installCallLog(clients.s3, 'S3', callLog)
    installCallLog(clients.sts, 'STS', callLog)
  }
  return clients
}

/**
 * The run's clients per region: `opts.region` (the action's `aws-region`) is the default, and
 * every other region a stack is pinned to gets its own set on first use, made as createRunClients
 * makes them (the call log included). run-guard.ts closes them all when the phase is over.
 */
export function createRunClientPool(opts: RunClientOptions): ClientPool {
  return new ClientPool(opts.region, region => createRunClients({ ...opts, region }))
}
