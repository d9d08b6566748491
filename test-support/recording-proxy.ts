import http from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { destroyClients, testClients } from './aws-clients.js'
import { forward, readBody, relay, sendAwsJson, type Upstream } from './http-proxy.js'

export interface RecordedCall {
  /** `DynamoDB.DescribeTable`, `CloudFormation.DescribeStacks`, `STS.GetCallerIdentity`, `S3.PutObject`, … */
  operation: string
  /**
   * What the call is about: a DynamoDB call's TableName (or GlobalTableName, ResourceArn, BackupArn), an S3
   * call's `bucket/key`, a CloudFormation call's StackName (or ChangeSetName).
   */
  target: string | null
  status: number
  /** When the answer came back (ms since the epoch), for ordering a call's end against another's start. */
  endedAt: number
  /** The region the request was signed for (its SigV4 credential scope); '' when unsigned. */
  region: string
  /** The request body as sent (JSON for DynamoDB, form-encoded for CloudFormation and STS). */
  body: string
  /** Bytes of the request body and of the answer's body (what went over the wire, headers aside). */
  requestBytes: number
  responseBytes: number
}

/**
 * A global table as DynamoDB would describe it, which moto cannot: moto ignores ReplicaUpdates, never
 * reports `Replicas` or `GlobalTableVersion`, and does not implement DescribeGlobalTable at all.
 */
export interface GlobalTableStandIn {
  /** Every region holding a replica. */
  regions: string[]
  /** Default `2019.11.21` (DescribeTable shows it); `2017.11.29` is answered by DescribeGlobalTable. */
  version?: '2019.11.21' | '2017.11.29'
}

export interface RecordingProxy {
  endpoint: string
  calls: RecordedCall[]
  operations(): string[]
  /** With importStandIn: the IMPORT change sets answered, in order. */
  imports: ImportChangeSet[]
  /** The global tables answered for (RecordingOptions.globalTables); tests may change it between runs. */
  globalTables: Record<string, GlobalTableStandIn>
  stop(): Promise<void>
}

/** The SigV4 credential scope of a request (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`). */
function credentialScope(req: http.IncomingMessage): { region: string; service: string | null } {
  const auth = req.headers.authorization
  const match = typeof auth === 'string' ? /Credential=[^/]+\/[^/]+\/([^/]+)\/([^/]+)\//.exec(auth) : null
  return { region: match?.[1] ?? '', service: match?.[2] ?? null }
}

/** The service a SigV4-signed request is for. */
function signedService(req: http.IncomingMessage): string | null {
  return credentialScope(req).service
}

/** The S3 REST operation of a path-style request (`/bucket`, `/bucket/key`) from its method and query. */
function s3OperationOf(req: http.IncomingMessage): { operation: string; target: string | null } {
  const url = new URL(req.url ?? '/', 'http://x')
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/')
  const key = decodeURIComponent(rest.join('/'))
  const q = url.searchParams
  const method = req.method ?? 'GET'
  let op: string
  if (key === '') {
    if (method === 'HEAD') op = 'HeadBucket'
    else if (method === 'PUT') op = 'CreateBucket'
    else if (method === 'DELETE') op = 'DeleteBucket'
    else if (q.has('list-type')) op = 'ListObjectsV2'
    else if (q.has('uploads')) op = 'ListMultipartUploads'
    else if (q.has('location')) op = 'GetBucketLocation'
    else if (method === 'POST' && q.has('delete')) op = 'DeleteObjects'
    else op = `${method} bucket ?${[...q.keys()].join('&')}`
  } else if (method === 'PUT') op = q.has('partNumber') ? 'UploadPart' : 'PutObject'
  else if (method === 'POST') op = q.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload'
  else if (method === 'DELETE') op = q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject'
  else if (method === 'HEAD') op = 'HeadObject'
  else op = q.has('attributes') ? 'GetObjectAttributes' : q.has('uploadId') ? 'ListParts' : 'GetObject'
  return { operation: `S3.${op}`, target: key === '' ? bucket : `${bucket}/${key}` }
}

/** What a DynamoDB JSON request is about: its TableName, else its ResourceArn / BackupArn. */
function dynamoTarget(body: Buffer): string | null {
  try {
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    const name = input.TableName ?? input.GlobalTableName ?? input.ResourceArn ?? input.BackupArn
    return typeof name === 'string' ? name : null
  } catch {
    return null
  }
}

/**
 * The operation an AWS SDK request names: JSON protocols use X-Amz-Target, query protocols
 * Action= (STS or CloudFormation, told apart by the signature's service), S3 its REST path.
 */
function operationOf(req: http.IncomingMessage, body: Buffer): { operation: string; target: string | null } {
  const target = req.headers['x-amz-target']
  if (typeof target === 'string') {
    const [service, op] = target.split('.')
    const name = service?.startsWith('DynamoDB') ? 'DynamoDB' : (service ?? 'unknown')
    return { operation: `${name}.${op ?? '?'}`, target: name === 'DynamoDB' ? dynamoTarget(body) : null }
  }
  const service = signedService(req)
  if (service === 's3') return s3OperationOf(req)
  const contentType = String(req.headers['content-type'] ?? '')
  const query = new URLSearchParams(
    contentType.includes('x-www-form-urlencoded') ? body.toString('utf8') : ''
  )
  const action = query.get('Action') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('Action')
  if (action) {
    const named = query.get('StackName') ?? query.get('ChangeSetName')
    return { operation: `${service === 'sts' ? 'STS' : 'CloudFormation'}.${action}`, target: named }
  }
  const smithy = /\/service\/([^/]+)\/operation\/([^/?]+)/.exec(req.url ?? '')
  if (smithy) return { operation: `${smithy[1]}.${smithy[2]}`, target: null }
  return { operation: `unknown ${req.method} ${req.url}`, target: null }
}

export interface RecordingOptions {
  /**
   * Answer DescribeStackResources by PhysicalResourceId as real CloudFormation does, which moto
   * does not (it ignores the id): the stack that holds a resource with that physical id, found
   * through moto's ListStacks and ListStackResources, answers with at most its first 100
   * resources (real CloudFormation returns no more, and no NextToken); no such stack →
   * ValidationError "Stack for <id> does not exist".
   */
  realDescribeStackResources?: boolean
  /** Tables to describe as replicas of a global table, by name (see GlobalTableStandIn). */
  globalTables?: Record<string, GlobalTableStandIn>
  /**
   * Answer CloudFormation IMPORT change sets as CloudFormation does, which moto cannot (it ignores
   * ResourcesToImport and tries to create the resources): see ImportStandIn. The requests are
   * recorded like every other; the answers are CloudFormation's documented ones, and afterwards the
   * stack lists the imported resources.
   */
  importStandIn?: boolean
  /**
   * Called with each request before it is forwarded (with its body); may act on the emulator
   * first (e.g. write an item, delete an object), or answer with an error instead of forwarding.
   */
  onRequest?: (call: RecordedCall, body: Buffer) => Promise<InjectedError | void> | InjectedError | void
}

/** An error answer in DynamoDB's JSON protocol, sent instead of forwarding the request. */
export interface InjectedError {
  status: number
  /** `AccessDeniedException`, … */
  type: string
  message: string
}

/** DescribeTable of a stand-in global table: the answer with GlobalTableVersion and Replicas added. */
function withReplicas(up: Upstream, region: string, table: GlobalTableStandIn): Upstream {
  const out = JSON.parse(up.body.toString('utf8')) as { Table?: Record<string, unknown> }
  if (!out.Table) return up
  out.Table.GlobalTableVersion = '2019.11.21'
  out.Table.Replicas = table.regions
    .filter(r => r !== region)
    .map(r => ({ RegionName: r, ReplicaStatus: 'ACTIVE' }))
  const body = Buffer.from(JSON.stringify(out))
  const headers: http.IncomingHttpHeaders = { ...up.headers, 'content-length': String(body.length) }
  delete headers['x-amz-crc32'] // the checksum of the body moto sent, not of this one
  return { ...up, headers, body }
}

/**
 * DescribeGlobalTable as DynamoDB answers it: the replication group of a legacy stand-in, else
 * GlobalTableNotFoundException (moto does not implement the operation).
 */
function answerDescribeGlobalTable(
  res: http.ServerResponse,
  name: string | null,
  table: GlobalTableStandIn | undefined
): number {
  if (name !== null && table?.version === '2017.11.29') {
    sendAwsJson(
      res,
      200,
      {
        GlobalTableDescription: {
          GlobalTableName: name,
          GlobalTableStatus: 'ACTIVE',
          ReplicationGroup: table.regions.map(r => ({ RegionName: r, ReplicaStatus: 'ACTIVE' }))
        }
      },
      'recording-proxy'
    )
    return 200
  }
  sendAwsJson(
    res,
    400,
    {
      __type: 'com.amazonaws.dynamodb.v20120810#GlobalTableNotFoundException',
      message: 'Global table not found'
    },
    'recording-proxy'
  )
  return 400
}

/** The CloudFormation query-protocol form of a request, or null for other protocols. */
function queryForm(req: http.IncomingMessage, body: Buffer): URLSearchParams | null {
  if (typeof req.headers['x-amz-target'] === 'string') return null
  const form = new URLSearchParams(body.toString('utf8'))
  return form.get('Action') ? form : null
}

/** Sends a CloudFormation query-protocol request of our own to moto (which checks no signature). */
function askMoto(target: URL, req: http.IncomingMessage, params: Record<string, string>): Promise<Upstream> {
  const body = Buffer.from(new URLSearchParams({ Version: '2010-05-15', ...params }).toString())
  return forward(target, req, body)
}

const xmlValues = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map(m => m[1] ?? '')

/** DescribeStackResources by physical id, the way real CloudFormation answers it (see RecordingOptions). */
async function describeByPhysicalId(
  target: URL,
  req: http.IncomingMessage,
  physicalId: string
): Promise<Upstream> {
  const listed = (await askMoto(target, req, { Action: 'ListStacks' })).body.toString('utf8')
  const live = [...listed.matchAll(/<member>([\s\S]*?)<\/member>/g)]
    .map(m => m[1] ?? '')
    .filter(member => !member.includes('<StackStatus>DELETE_COMPLETE</StackStatus>'))
    .flatMap(member => xmlValues(member, 'StackName').slice(0, 1))
  for (const stackName of live) {
    const resources = (await askMoto(target, req, { Action: 'ListStackResources', StackName: stackName }))
      .body
    if (!xmlValues(resources.toString('utf8'), 'PhysicalResourceId').includes(physicalId)) continue
    const up = await askMoto(target, req, { Action: 'DescribeStackResources', StackName: stackName })
    const xml = up.body.toString('utf8')
    let kept = 0
    const first100 = xml.replace(/<member>[\s\S]*?<\/member>/g, member => (++kept <= 100 ? member : ''))
    const body = Buffer.from(first100)
    return { ...up, headers: { ...up.headers, 'content-length': String(body.length) }, body }
  }
  const error = `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack for ${physicalId} does not exist</Message></Error><RequestId>recording-proxy</RequestId></ErrorResponse>`
  return { status: 400, headers: { 'content-type': 'text/xml' }, body: Buffer.from(error) }
}

/** A resource an IMPORT change set names (ResourcesToImport). */
export interface ImportedResource {
  logicalId: string
  type: string
  /** The identifier's value (TableName for a DynamoDB table). */
  physicalId: string
}

/**
 * What CloudFormation reads at a TemplateURL (`https://BUCKET.s3.REGION.amazonaws.com/KEY`, or
 * path-style for a dotted bucket name), read from the emulator's S3; null when there is no such object.
 */
async function templateAt(upstream: URL, url: string): Promise<unknown> {
  const u = new URL(url)
  const virtual = /^(.+)\.s3\.[^.]+\.amazonaws\.com(\.cn)?$/.exec(u.hostname)
  const [bucket = '', ...rest] = (virtual ? `${virtual[1]}${u.pathname}` : u.pathname.slice(1)).split('/')
  const key = rest.map(decodeURIComponent).join('/')
  const clients = testClients(upstream.href)
  try {
    const out = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    const text = (await out.Body?.transformToString('utf8')) ?? ''
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  } catch {
    return null
  } finally {
    destroyClients(clients)
  }
}

/** An IMPORT change set the stand-in answered. */
export interface ImportChangeSet {
  id: string
  name: string
  stackName: string
  stackId: string
  newStack: boolean
  resources: ImportedResource[]
  /** The TemplateBody sent (or the object at the TemplateURL sent, as CloudFormation reads it), parsed. */
  template: unknown
  executed: boolean
  /** Every form field of the CreateChangeSet request as sent. */
  request: Record<string, string>
}

const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function cfnAnswer(action: string, result: string): Upstream {
  const body = Buffer.from(
    `<${action}Response xmlns="${CFN_NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>import-stand-in</RequestId></ResponseMetadata></${action}Response>`
  )
  return { status: 200, headers: { 'content-type': 'text/xml', 'content-length': String(body.length) }, body }
}

function cfnError(code: string, message: string): Upstream {
  const body = Buffer.from(
    `<ErrorResponse xmlns="${CFN_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>import-stand-in</RequestId></ErrorResponse>`
  )
  return { status: 400, headers: { 'content-type': 'text/xml', 'content-length': String(body.length) }, body }
}

function resourceMember(r: ImportedResource, stackName: string, stackId: string): string {
  return `<member><LogicalResourceId>${xmlEscape(r.logicalId)}</LogicalResourceId><PhysicalResourceId>${xmlEscape(r.physicalId)}</PhysicalResourceId><ResourceType>${r.type}</ResourceType><ResourceStatus>IMPORT_COMPLETE</ResourceStatus><StackName>${xmlEscape(stackName)}</StackName><StackId>${xmlEscape(stackId)}</StackId><LastUpdatedTimestamp>${new Date().toISOString()}</LastUpdatedTimestamp><Timestamp>${new Date().toISOString()}</Timestamp></member>`
}

/**
 * CloudFormation's side of an IMPORT change set (moto cannot play it): CreateChangeSet
 * (ChangeSetType IMPORT) answers Id and StackId (the stack's own for an existing moto stack, a new
 * one otherwise); DescribeChangeSet CREATE_COMPLETE / AVAILABLE, then EXECUTE_COMPLETE after
 * ExecuteChangeSet; the stack then reads IMPORT_COMPLETE and ListStackResources lists the imported
 * resources (after the moto stack's own). Other CloudFormation calls go to moto.
 */
class ImportStandIn {
  readonly changeSets: ImportChangeSet[] = []

  constructor(private readonly upstream: URL) {}

  private stackOf(nameOrId: string | null): ImportChangeSet[] {
    if (nameOrId === null) return []
    return this.changeSets.filter(c => c.executed && (c.stackName === nameOrId || c.stackId === nameOrId))
  }

  private async motoStackId(req: http.IncomingMessage, stackName: string): Promise<string | null> {
    const up = await askMoto(this.upstream, req, { Action: 'DescribeStacks', StackName: stackName })
    if (up.status !== 200) return null
    const xml = up.body.toString('utf8')
    const members = [...xml.matchAll(/<member>([\s\S]*?)<\/member>/g)].map(m => m[1] ?? '')
    const live = members.find(m => !m.includes('<StackStatus>DELETE_COMPLETE</StackStatus>'))
    return live ? (xmlValues(live, 'StackId')[0] ?? null) : null
  }

  /** The answer for a CloudFormation request, or null to forward it to moto. */
  async answer(req: http.IncomingMessage, form: URLSearchParams, region: string): Promise<Upstream | null> {
    const action = form.get('Action')
    if (action === 'CreateChangeSet' && form.get('ChangeSetType') === 'IMPORT') {
      const stackName = form.get('StackName') ?? ''
      const name = form.get('ChangeSetName') ?? ''
      const existing = await this.motoStackId(req, stackName)
      const earlier = this.stackOf(stackName)[0]
      const stackId =
        existing ??
        earlier?.stackId ??
        `arn:aws:cloudformation:${region}:123456789012:stack/${stackName}/${randomUUID()}`
      const resources: ImportedResource[] = []
      for (let i = 1; form.has(`ResourcesToImport.member.${i}.LogicalResourceId`); i++) {
        const at = `ResourcesToImport.member.${i}`
        let physicalId = ''
        for (let j = 1; form.has(`${at}.ResourceIdentifier.entry.${j}.key`); j++)
          physicalId = form.get(`${at}.ResourceIdentifier.entry.${j}.value`) ?? physicalId
        resources.push({
          logicalId: form.get(`${at}.LogicalResourceId`) ?? '',
          type: form.get(`${at}.ResourceType`) ?? '',
          physicalId
        })
      }
      if (resources.length === 0) return cfnError('ValidationError', 'ResourcesToImport must not be empty')
      const id = `arn:aws:cloudformation:${region}:123456789012:changeSet/${name}/${randomUUID()}`
      let template: unknown = null
      const url = form.get('TemplateURL')
      if (url) template = await templateAt(this.upstream, url)
      else
        try {
          template = JSON.parse(form.get('TemplateBody') ?? 'null')
        } catch {
          template = form.get('TemplateBody')
        }
      this.changeSets.push({
        id,
        name,
        stackName,
        stackId,
        newStack: existing === null && earlier === undefined,
        resources,
        template,
        executed: false,
        request: Object.fromEntries(form.entries())
      })
      return cfnAnswer('CreateChangeSet', `<Id>${id}</Id><StackId>${stackId}</StackId>`)
    }
    const byId = (key: string): ImportChangeSet | undefined => {
      const v = form.get(key)
      return this.changeSets.find(c => c.id === v)
    }
    if (action === 'DescribeChangeSet') {
      const c = byId('ChangeSetName')
      if (!c) return null
      return cfnAnswer(
        'DescribeChangeSet',
        `<ChangeSetId>${c.id}</ChangeSetId><ChangeSetName>${xmlEscape(c.name)}</ChangeSetName><StackId>${c.stackId}</StackId><StackName>${xmlEscape(c.stackName)}</StackName><Status>CREATE_COMPLETE</Status><ExecutionStatus>${c.executed ? 'EXECUTE_COMPLETE' : 'AVAILABLE'}</ExecutionStatus><Changes>${c.resources.map(r => `<member><Type>Resource</Type><ResourceChange><Action>Import</Action><LogicalResourceId>${xmlEscape(r.logicalId)}</LogicalResourceId><PhysicalResourceId>${xmlEscape(r.physicalId)}</PhysicalResourceId><ResourceType>${r.type}</ResourceType></ResourceChange></member>`).join('')}</Changes>`
      )
    }
    if (action === 'ExecuteChangeSet') {
      const c = byId('ChangeSetName')
      if (!c) return null
      c.executed = true
      return cfnAnswer('ExecuteChangeSet', '')
    }
    if (action === 'DeleteChangeSet' && byId('ChangeSetName')) return cfnAnswer('DeleteChangeSet', '')
    const imported = this.stackOf(form.get('StackName'))
    if (imported.length === 0) return null
    const first = imported[0] as ImportChangeSet
    const resources = imported.flatMap(c => c.resources)
    if (action === 'DescribeStacks') {
      return cfnAnswer(
        'DescribeStacks',
        `<Stacks><member><StackName>${xmlEscape(first.stackName)}</StackName><StackId>${first.stackId}</StackId><StackStatus>IMPORT_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime></member></Stacks>`
      )
    }
    if (action === 'ListStackResources') {
      const members = resources.map(r => resourceMember(r, first.stackName, first.stackId)).join('')
      if (!first.newStack) {
        const up = await forward(this.upstream, req, Buffer.from(form.toString()))
        const xml = up.body
          .toString('utf8')
          .replace('</StackResourceSummaries>', `${members}</StackResourceSummaries>`)
        const body = Buffer.from(xml)
        return { ...up, headers: { ...up.headers, 'content-length': String(body.length) }, body }
      }
      return cfnAnswer('ListStackResources', `<StackResourceSummaries>${members}</StackResourceSummaries>`)
    }
    if (action === 'DescribeStackEvents')
      return cfnAnswer('DescribeStackEvents', '<StackEvents></StackEvents>')
    if (action === 'GetTemplate' && first.newStack)
      return cfnAnswer(
        'GetTemplate',
        `<TemplateBody>${xmlEscape(JSON.stringify(first.template))}</TemplateBody>`
      )
    return null
  }
}

/**
 * A loopback HTTP proxy in front of an emulator that records the operation, target and region of
 * every request, so a test can assert which AWS calls a run made and where (e.g. report mode makes
 * no mutating call; nothing is asked in us-east-1 about a table of us-west-2). With `globalTables`
 * it also answers for global tables as DynamoDB does.
 */
export async function startRecordingProxy(
  target: string,
  options: RecordingOptions = {}
): Promise<RecordingProxy> {
  const upstream = new URL(target)
  const calls: RecordedCall[] = []
  const globalTables: Record<string, GlobalTableStandIn> = { ...(options.globalTables ?? {}) }
  const importStandIn = options.importStandIn ? new ImportStandIn(upstream) : null
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req)
    const region = credentialScope(req).region
    const call: RecordedCall = {
      ...operationOf(req, body),
      status: 0,
      endedAt: 0,
      region,
      body: body.toString('utf8'),
      requestBytes: body.length,
      responseBytes: 0
    }
    calls.push(call)
    const injected = await options.onRequest?.(call, body)
    if (injected) {
      call.status = injected.status
      call.endedAt = Date.now()
      sendAwsJson(
        res,
        injected.status,
        { __type: `com.amazonaws.dynamodb.v20120810#${injected.type}`, message: injected.message },
        'recording-proxy'
      )
      return
    }
    const global = call.target !== null ? globalTables[call.target] : undefined
    const replicaHere = global !== undefined && global.regions.includes(region) ? global : undefined
    if (call.operation === 'DynamoDB.DescribeGlobalTable') {
      call.status = answerDescribeGlobalTable(res, call.target, replicaHere)
      call.endedAt = Date.now()
      return
    }
    try {
      const cfnForm = importStandIn ? queryForm(req, body) : null
      const standIn = cfnForm ? await importStandIn?.answer(req, cfnForm, region) : null
      const form = options.realDescribeStackResources ? queryForm(req, body) : null
      const physicalId =
        form?.get('Action') === 'DescribeStackResources' && !form.get('StackName')
          ? form.get('PhysicalResourceId')
          : null
      const up =
        standIn ??
        (physicalId
          ? await describeByPhysicalId(upstream, req, physicalId)
          : await forward(upstream, req, body))
      call.status = up.status
      call.responseBytes = up.body.length
      call.endedAt = Date.now()
      const current =
        call.operation === 'DynamoDB.DescribeTable' &&
        up.status === 200 &&
        replicaHere &&
        (replicaHere.version ?? '2019.11.21') === '2019.11.21'
      relay(res, current ? withReplicas(up, region, replicaHere) : up)
    } catch (err) {
      call.status = 502
      call.endedAt = Date.now()
      res.writeHead(502)
      res.end(String(err))
    }
  }
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    operations: () => calls.map(c => c.operation),
    imports: importStandIn?.changeSets ?? [],
    globalTables,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** Operations that cannot change anything. */
export function isReadOnlyOperation(operation: string): boolean {
  const op = operation.split('.')[1] ?? ''
  return /^(Describe|List|Get|Head)/.test(op) || op === 'Scan' || op === 'Query'
}
