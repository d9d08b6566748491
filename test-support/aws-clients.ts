import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { ClientPool, type AwsClients, type RegionalClients } from '../src/aws/clients.js'

export const TEST_REGION = 'us-east-1'

/** Clients pointed at an emulator: dummy credentials, us-east-1, and few attempts so failures surface fast. */
export function testClients(
  endpoint: string,
  opts: { maxAttempts?: number; region?: string } = {}
): AwsClients {
  const config = {
    region: opts.region ?? TEST_REGION,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: opts.maxAttempts ?? 2
  }
  return {
    dynamodb: new DynamoDBClient(config),
    cloudformation: new CloudFormationClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sts: new STSClient(config)
  }
}

export { destroyClients } from '../src/aws/clients.js'

/**
 * One region's clients as a RegionalClients: `region` (default us-east-1) is served by `clients`;
 * asking for another region fails the test, so a test that expects one region cannot silently act
 * in another.
 */
export function oneRegion<C>(clients: C, region = TEST_REGION): RegionalClients<C> {
  return {
    defaultRegion: region,
    forRegion: (asked: string) => {
      if (asked !== region) throw new Error(`test: no clients for region ${asked} (only ${region})`)
      return clients
    }
  }
}

/** Clients for every region on one emulator endpoint (moto keeps regions apart on one port). */
export function regionalTestClients(
  endpoint: string,
  opts: { maxAttempts?: number; defaultRegion?: string } = {}
): ClientPool {
  return new ClientPool(opts.defaultRegion ?? TEST_REGION, region =>
    testClients(endpoint, { region, ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}) })
  )
}

type AnyClient = DynamoDBClient | CloudFormationClient | S3Client | STSClient
let recorders = 0

/**
 * Records the name of every command the client sends (e.g. `DescribeTableCommand`), through a
 * middleware, so a test can assert which calls were (not) made. Returns the live list.
 */
export function recordCommandNames(client: AnyClient): string[] {
  const names: string[] = []
  const stack = client.middlewareStack as DynamoDBClient['middlewareStack']
  stack.add(
    (next, context) => async args => {
      names.push(context.commandName ?? 'unknown')
      return next(args)
    },
    { step: 'initialize', name: `recordCommandNames-${++recorders}` }
  )
  return names
}
