import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import type { AwsClients } from '../src/aws/clients.js'

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
