/**
 * Scan pages as DynamoDB sent them.
 *
 * The SDK turns every attribute value of a page into objects (and binary into Uint8Array) that
 * the export would only turn back into DynamoDB JSON; on big tables that round trip costs more
 * CPU than everything else the export does. A per-command middleware placed inside the SDK's
 * deserializer takes the page's "Items" out of the raw response body (parsed once with
 * JSON.parse: attribute values stay exactly as the service spelled them) and hands the SDK the
 * rest of the body (Count, LastEvaluatedKey, ...). Error responses are not touched. Retries,
 * signing and endpoints are the SDK's as usual. With a client whose middleware does not run
 * (e.g. aws-sdk-client-mock) the deserialized Items are converted instead.
 */
import { ScanCommand, type AttributeValue, type ScanCommandInput } from '@aws-sdk/client-dynamodb'
import { sdkItemToWire, type WireItem } from './dynamodb-json.js'
import type { DynamoSender } from './export.js'

type Middleware = Parameters<ScanCommand['middlewareStack']['add']>[0]

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

export interface WirePage {
  items: WireItem[]
  lastEvaluatedKey: Record<string, AttributeValue> | undefined
}

export async function scanPageWire(ddb: DynamoSender, input: ScanCommandInput): Promise<WirePage> {
  const command = new ScanCommand(input)
  let items: WireItem[] | null = null
  const takeItems: Middleware = (next) => async (args) => {
    const out = await next(args)
    const response = out.response as { statusCode?: number; body?: unknown }
    if (response.statusCode === 200 && response.body !== undefined && response.body !== null) {
      const page = JSON.parse((await bodyBytes(response.body)).toString('utf8')) as { Items?: WireItem[] } & Record<string, unknown>
      items = page.Items ?? []
      delete page.Items
      response.body = Buffer.from(JSON.stringify(page))
    }
    return out
  }
  command.middlewareStack.add(takeItems, { step: 'deserialize', priority: 'low', name: 'orphanGuardWireItems' })
  const out = await ddb.send(command)
  return { items: items ?? (out.Items ?? []).map(sdkItemToWire), lastEvaluatedKey: out.LastEvaluatedKey }
}
