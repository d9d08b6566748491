/**
 * Scan pages as DynamoDB sent them.
 *
 * The SDK turns every attribute value of a page into objects (and binary into Uint8Array) that
 * the export would only turn back into DynamoDB JSON; on big tables that round trip costs more
 * CPU than everything else the export does. A per-command middleware placed inside the SDK's
 * deserializer takes the text of each item of the page's "Items" out of the raw response body
 * (attribute values stay exactly as the service spelled them; each item is later parsed on its
 * own, so a page's items never all live at once) and hands the SDK the rest of the body (Count,
 * LastEvaluatedKey, ...). Error responses are not touched. Retries,
 * signing and endpoints are the SDK's as usual. With a client whose middleware does not run
 * (e.g. aws-sdk-client-mock) the deserialized Items are converted instead.
 */
import { ScanCommand, type AttributeValue, type ScanCommandInput } from '@aws-sdk/client-dynamodb'
import { sdkItemToWire } from './dynamodb-json.js'
import { splitTopLevelArrayBytes } from './json-scan.js'
import type { DynamoSender } from './export.js'

type Middleware = Parameters<ScanCommand['middlewareStack']['add']>[0]

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (typeof body === 'string') return Buffer.from(body)
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Uint8Array>)
    chunks.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    )
  return Buffer.concat(chunks)
}

export interface WirePage {
  /** Each item's DynamoDB JSON text exactly as the service sent it. */
  texts: string[]
  lastEvaluatedKey: Record<string, AttributeValue> | undefined
}

export async function scanPageWire(ddb: DynamoSender, input: ScanCommandInput): Promise<WirePage> {
  const command = new ScanCommand(input)
  let texts: string[] | null = null
  const takeItems: Middleware = next => async args => {
    const out = await next(args)
    const response = out.response as { statusCode?: number; body?: unknown }
    if (response.statusCode === 200 && response.body !== undefined && response.body !== null) {
      // Split on the bytes: the page (up to 1 MB) never becomes one large string.
      const bytes = await bodyBytes(response.body)
      const split = splitTopLevelArrayBytes(bytes, 'Items')
      texts = split?.elements ?? []
      response.body = split?.rest ?? bytes
    }
    return out
  }
  command.middlewareStack.add(takeItems, {
    step: 'deserialize',
    priority: 'low',
    name: 'orphanGuardWireItems'
  })
  const out = await ddb.send(command)
  return {
    texts: texts ?? (out.Items ?? []).map(i => JSON.stringify(sdkItemToWire(i))),
    lastEvaluatedKey: out.LastEvaluatedKey
  }
}
