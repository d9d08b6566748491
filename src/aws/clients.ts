import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { proxyAgents } from './proxy.js'

/**
 * The one part of an SDK client that adapters and the data engine use: `send`. Every function that
 * calls AWS takes a `Sender<…Client>` as its first argument, so a test can hand in a mock or a wrapper.
 */
export type Sender<C extends { send: unknown }> = Pick<C, 'send'>

/**
 * The SDK's paginators accept only an instance of the client's class (they check `instanceof`) and
 * then call nothing but `send`: a Sender that is a wrapper is lent the class, with its own `send`.
 */
export function asClient<C extends { send: unknown }>(
  sender: Sender<C>,
  Client: new (config: never) => C
): C {
  if (sender instanceof Client) return sender
  const lent = Object.create(Client.prototype as object) as C
  return Object.assign(lent, { send: (sender.send as (...args: unknown[]) => unknown).bind(sender) })
}

/** The SDK clients the action talks to; created once in main and passed down. */
export interface AwsClients {
  dynamodb: DynamoDBClient
  cloudformation: CloudFormationClient
  s3: S3Client
  sts: STSClient
}

export interface ClientOptions {
  region: string
  /**
   * Explicit endpoint (emulators). When omitted the SDK's own resolution applies, which honours
   * AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_DYNAMODB, _CLOUDFORMATION, _S3, _STS.
   */
  endpoint?: string
  /** Total attempts per call including the first (standard retry mode with jittered backoff). */
  maxAttempts?: number
  /** The environment the SDK reads endpoints from (default: process.env); see s3PathStyle. */
  env?: Readonly<Record<string, string | undefined>>
}

export const DEFAULT_MAX_ATTEMPTS = 8

/**
 * The SDK waits forever on a silent connection by default; a hung socket would stall a restore.
 * A Scan page or a 25-item batch answers in well under a second; a minute means the connection is dead.
 */
export const CONNECTION_TIMEOUT_MS = 5_000
export const REQUEST_TIMEOUT_MS = 60_000

/**
 * Credentials come from the default provider chain (env, OIDC web identity, profile, IMDS);
 * nothing is read here that the SDK would not read itself.
 */
export function createClients(opts: ClientOptions): AwsClients {
  const config = {
    region: opts.region,
    retryMode: 'standard',
    maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // HTTPS_PROXY / HTTP_PROXY / NO_PROXY, which the SDK does not read by itself (aws/proxy.ts).
      ...proxyAgents()
    },
    // Only set when given: an `endpoint: undefined` key is harmless today, but leaving it out
    // keeps the SDK's env-based endpoint resolution unambiguously in charge.
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {})
  }
  // The data engine sends thousands of Scan and BatchWriteItem calls a minute: the SDK resolves
  // each command class's middleware chain once (cacheMiddleware) instead of once per call, which
  // is most of the garbage a restore makes. The engine's own middlewares must then be on the
  // client before its first request: run/clients.ts installs them right after this returns (the
  // engine refuses a caching client without them).
  const dynamodb = new DynamoDBClient({ ...config, cacheMiddleware: true })
  return {
    dynamodb,
    cloudformation: new CloudFormationClient(config),
    s3: new S3Client({ ...config, forcePathStyle: s3PathStyle(opts.endpoint, opts.env ?? process.env) }),
    sts: new STSClient(config)
  }
}

/**
 * Whether S3 must be addressed path-style (`http://host:port/bucket/key`): for a loopback endpoint
 * (an emulator such as moto), whether given explicitly or through the environment the SDK reads
 * (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS). The
 * SDK picks path-style by itself for an IP address, but for `localhost` it would ask for
 * `bucket.localhost`, which does not resolve.
 */
export function s3PathStyle(
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>
): boolean {
  const configured =
    endpoint ??
    (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true'
      ? undefined
      : env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined)
  return configured !== undefined && isLoopback(configured)
}

function isLoopback(endpoint: string): boolean {
  let host: string
  try {
    host = new URL(endpoint).hostname
  } catch {
    return false
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '[::1]'
}

/** Closes every client's sockets (the action calls it once the phase is over). */
export function destroyClients(clients: AwsClients): void {
  clients.dynamodb.destroy()
  clients.cloudformation.destroy()
  clients.s3.destroy()
  clients.sts.destroy()
}

/**
 * The clients of every region a run works in. DynamoDB tables and CloudFormation stacks are
 * regional: a stack pinned to us-west-2 is inspected, planned and acted on with us-west-2 clients,
 * never with those of the action's `aws-region`.
 */
export interface RegionalClients<C = AwsClients> {
  /** The action's `aws-region`: environment-agnostic stacks, single templates, the `tables` input, STS. */
  readonly defaultRegion: string
  /** The clients of `region` (one set per region, made on first use). */
  forRegion(region: string): C
}

/** A RegionalClients that makes each region's clients on first use and closes them all at the end. */
export class ClientPool implements RegionalClients {
  private readonly made = new Map<string, AwsClients>()

  constructor(
    readonly defaultRegion: string,
    private readonly make: (region: string) => AwsClients
  ) {}

  forRegion(region: string): AwsClients {
    let clients = this.made.get(region)
    if (!clients) {
      clients = this.make(region)
      this.made.set(region, clients)
    }
    return clients
  }

  /** The regions whose clients were made, in the order they were first asked for. */
  regions(): string[] {
    return [...this.made.keys()]
  }

  /** Closes the sockets of every region's clients. */
  destroy(): void {
    for (const clients of this.made.values()) destroyClients(clients)
    this.made.clear()
  }
}

/**
 * The region the SDK's own configuration finds without a call: AWS_REGION, else the region of the
 * profile in use (AWS_PROFILE, ~/.aws/config, AWS_CONFIG_FILE). Undefined when there is none.
 */
export async function configuredRegion(): Promise<string | undefined> {
  const sts = new STSClient({})
  try {
    const region = await sts.config.region()
    return region === '' ? undefined : region
  } catch {
    return undefined
  } finally {
    sts.destroy()
  }
}
