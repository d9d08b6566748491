/**
 * Two client-level middlewares that let the data engine move items as DynamoDB JSON text, the way
 * the service spells them, instead of through the SDK's object model:
 * - Scan: the items of the raw response body go, as UTF-8 bytes, to a `consume` function the
 *   command's input carries (see raw-scan.ts); the SDK parses the rest of the body as usual.
 * - BatchWriteItem: the request body is the text the command's input carries (see restore.ts).
 *
 * They are added to the client once (withDataMiddleware) and act only on commands whose input
 * carries the data (a symbol-keyed member, which the SDK's serializer does not see), so the same
 * client serves every other command unchanged. Being on the client, not on each command, they
 * also work with `cacheMiddleware: true`, where the SDK resolves a command class's middleware
 * chain once instead of once per request (~40 closures and lists per call that would otherwise
 * live as long as the request; at thousands of requests a second that is most of the garbage a
 * restore makes). Retries, signing, endpoints and error parsing stay the SDK's.
 */
import type { DynamoDBClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb'
// Type only (erased at build time); the SDK's own middleware types.
import type { BuildMiddleware, DeserializeMiddleware } from '@smithy/types'
import { splitTopLevelArrayBytes, type PageItems } from './json-scan.js'

export const BODY_TEXT = Symbol.for('dynamodb-orphan-guard.body-text')
export const WIRE_ITEMS = Symbol.for('dynamodb-orphan-guard.wire-items')

/** What a Scan input carries: the consumer, and what it returned for the response that counted. */
export interface WireItemsSlot<R> {
  consume: (items: PageItems) => R
  /** What `consume` returned for the response that counted, and how many items the splitter found in it. */
  consumed: { result: R; items: number } | null
}

const NAME = 'orphanGuardDataMiddleware'
/** Marks a response whose items a wireItems middleware has taken. */
const TAKEN = Symbol('taken')
type Stack = DynamoDBClient['middlewareStack']

/**
 * Scan response bodies are read into reusable buffers, one per response being read: each chunk
 * the socket delivers is copied and dropped at once, and no page-sized buffer is allocated per
 * page. (Allocated per page and held while the rest of the page arrives, those buffers outlive
 * V8's young generation and pile up as external memory until a full collection.)
 */
const spareBodies: Buffer[] = []
const MAX_SPARE_BODIES = 32
const INITIAL_BODY_BYTES = 256 * 1024
const BODY_STEP = 64 * 1024

/** Keeps a body buffer for a later response (up to MAX_SPARE_BODIES of them). */
function giveBack(buf: Buffer): void {
  if (spareBodies.length < MAX_SPARE_BODIES) spareBodies.push(buf)
}

/** A body buffer of at least `bytes` (in 64 KiB steps: sized to the pages seen, not doubled). */
function bodyBuffer(bytes: number): Buffer {
  return Buffer.allocUnsafeSlow(Math.ceil(bytes / BODY_STEP) * BODY_STEP)
}

/** The body's bytes; `expected` is its Content-Length when the response has one. */
async function readBody(
  body: unknown,
  expected: number | null
): Promise<{ bytes: Buffer; release: () => void }> {
  if (body instanceof Uint8Array)
    return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), release: () => undefined }
  if (typeof body === 'string') return { bytes: Buffer.from(body), release: () => undefined }
  let buf = spareBodies.pop() ?? null
  // A spare that is too small for the announced length is dropped (spares follow the page size).
  if (buf === null || (expected !== null && buf.length < expected))
    buf = bodyBuffer(expected ?? INITIAL_BODY_BYTES)
  let n = 0
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (n + chunk.byteLength > buf.length) {
        const bigger = bodyBuffer(Math.max(Math.floor(buf.length * 1.25), n + chunk.byteLength))
        buf.copy(bigger, 0, 0, n)
        buf = bigger
      }
      buf.set(chunk, n)
      n += chunk.byteLength
    }
  } catch (err) {
    giveBack(buf)
    throw err
  }
  const owned = buf
  return { bytes: owned.subarray(0, n), release: () => giveBack(owned) }
}

const bodyText: BuildMiddleware<ServiceInputTypes, ServiceOutputTypes> = next => async args => {
  const text = (args.input as { [BODY_TEXT]?: string })[BODY_TEXT]
  if (typeof text === 'string') {
    const request = args.request as { body?: unknown; headers?: Record<string, string> }
    request.body = text
    if (request.headers !== undefined) request.headers['content-length'] = String(Buffer.byteLength(text))
  }
  return next(args)
}

const wireItems: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = next => async args => {
  const slot = (args.input as { [WIRE_ITEMS]?: WireItemsSlot<unknown> })[WIRE_ITEMS]
  if (slot === undefined) return next(args)
  slot.consumed = null
  const out = await next(args)
  const response = out.response as {
    statusCode?: number
    headers?: Record<string, string>
    body?: unknown
    [TAKEN]?: true
  }
  // Both on the client and on the command (a wrapped client): the inner one has taken the items.
  if (response[TAKEN] === true) return out
  response[TAKEN] = true
  if (response.statusCode === 200 && response.body !== undefined && response.body !== null) {
    // Split on the bytes: the page (up to 1 MB) never becomes one large string. The items are
    // consumed here and the rest is a copy, so the buffer is free again once this is done.
    const length = Number(response.headers?.['content-length'] ?? Number.NaN)
    const body = await readBody(response.body, Number.isSafeInteger(length) && length >= 0 ? length : null)
    try {
      const split = splitTopLevelArrayBytes(body.bytes, 'Items')
      if (split === null) response.body = Buffer.from(body.bytes)
      else {
        slot.consumed = { result: slot.consume(split.elements), items: split.elements.length }
        response.body = split.rest
      }
    } finally {
      body.release()
    }
  }
  return out
}

function addTo(stack: Stack, where: 'client' | 'command'): void {
  // Distinct names per level: a wrapped client may carry them too (then both run, harmlessly:
  // the body is set twice to the same text, and the items are taken once).
  const suffix = where === 'client' ? '' : '-command'
  stack.add(bodyText, { step: 'build', priority: 'low', name: `${NAME}-bodyText${suffix}` })
  stack.add(wireItems, { step: 'deserialize', priority: 'low', name: `${NAME}-wireItems${suffix}` })
}

/** Whether the stack already holds these middlewares (under either level's names). */
function carries(stack: Stack): boolean {
  return stack.identify().some(n => n.startsWith(`${NAME}-`))
}

/** Clients that carry the middlewares (added once per client). */
const installed = new WeakSet<object>()

/**
 * Adds the middlewares to an SDK client. Needed before its first request when the client is
 * built with `cacheMiddleware: true` (the SDK then resolves each command class's chain once, at
 * its first use, and never looks at the stack again); otherwise optional (withDataMiddleware
 * adds them on first use).
 */
export function installDataMiddleware(client: { middlewareStack: unknown }): void {
  const caching = client as { config?: { cacheMiddleware?: boolean }; handlers?: unknown }
  // The SDK's cache of resolved chains (Client.handlers) exists once a request went out: chains
  // cached before the install would not carry the middlewares, so refuse rather than half-work.
  if (!installed.has(client) && caching.config?.cacheMiddleware === true && caching.handlers !== undefined)
    throw new Error(
      'installDataMiddleware must run before the first request of a DynamoDB client built with cacheMiddleware'
    )
  const stack = client.middlewareStack as Stack
  if (!carries(stack)) addTo(stack, 'client')
  installed.add(client)
}

/**
 * The command, ready to carry items as text through `ddb`: the middlewares are added to the
 * client once when `ddb` is an SDK client, or else to this command (a wrapper around a client,
 * which only forwards `send`). A command's middleware stack is its own, so that also works.
 */
export function withDataMiddleware<C extends { middlewareStack: unknown }>(ddb: object, command: C): C {
  if (installed.has(ddb)) return command
  const client = ddb as { middlewareStack?: Stack; config?: { cacheMiddleware?: boolean } }
  if (client.middlewareStack !== undefined && typeof client.middlewareStack.identify === 'function') {
    if (client.config?.cacheMiddleware === true && !carries(client.middlewareStack))
      // Its chains may already be cached without them: adding them now would not take effect.
      throw new Error(
        'A DynamoDB client built with cacheMiddleware needs installDataMiddleware(client) before its first request'
      )
    installDataMiddleware(client as { middlewareStack: unknown })
    return command
  }
  addTo(command.middlewareStack as Stack, 'command')
  return command
}
