/**
 * A debug line for every AWS call a client makes (`RUNNER_DEBUG=1` in Actions, `--debug` in the
 * CLI): the service and operation, the table (or stack, bucket, backup) it is about, how long it took
 * with its retries, and how it ended. Never item data: only the request members named in TARGETS
 * are read, never keys, items, expressions or templates, and a failure is named by its error
 * name and HTTP status, not its message (which can quote an item).
 *
 * Installed only when debug is on (run/clients.ts), so the data engine's calls pay nothing for it
 * otherwise.
 */
import type {
  AbsoluteLocation,
  InitializeHandlerOptions,
  InitializeMiddleware,
  MetadataBearer
} from '@smithy/types'

/** Request members that say what a call is about, with how the line names them. */
const TARGETS: ReadonlyArray<readonly [member: string, name: string]> = [
  ['TableName', 'table'],
  ['StackName', 'stack'],
  ['ChangeSetName', 'change set'],
  ['BackupArn', 'backup'],
  ['ResourceArn', 'resource'],
  ['Bucket', 'bucket'],
  ['Key', 'key']
]

const NAME = 'orphanGuardCallLog'

/** What the call is about, e.g. ` table=pr-5-orders` or ` table=pr-5-orders segment=3/16`. */
export function callTarget(input: unknown): string {
  if (typeof input !== 'object' || input === null) return ''
  const fields = input as Record<string, unknown>
  const parts: string[] = []
  for (const [member, name] of TARGETS) {
    const value = fields[member]
    if (typeof value === 'string' && value !== '') parts.push(`${name}=${value}`)
  }
  // BatchWriteItem names its tables as the keys of RequestItems (the items stay unread).
  const requestItems = fields.RequestItems
  if (typeof requestItems === 'object' && requestItems !== null)
    parts.push(`table=${Object.keys(requestItems).join(',')}`)
  if (typeof fields.Segment === 'number' && typeof fields.TotalSegments === 'number')
    parts.push(`segment=${fields.Segment}/${fields.TotalSegments}`)
  return parts.length > 0 ? ` ${parts.join(' ')}` : ''
}

function failureOf(err: unknown): string {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number; attempts?: number } }
  const name = typeof e?.name === 'string' ? e.name : 'Error'
  const status = e?.$metadata?.httpStatusCode
  return status !== undefined ? `${name} (HTTP ${status})` : name
}

function attemptsOf(meta: { attempts?: number } | undefined): string {
  const attempts = meta?.attempts ?? 1
  return attempts > 1 ? `, ${attempts} attempts` : ''
}

/**
 * Adds the call log to an SDK client: outermost (initialize step, high priority), so the duration
 * covers serialization, retries and parsing. `now` is a monotonic millisecond clock.
 */
export function installCallLog(
  client: { middlewareStack: unknown },
  service: string,
  log: (line: string) => void,
  now: () => number = () => performance.now()
): void {
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async args => {
    const command = (context as { commandName?: string }).commandName ?? 'UnknownCommand'
    const operation = command.replace(/Command$/, '')
    const what = `${service}.${operation}${callTarget(args.input)}`
    const started = now()
    const took = (): string => `${Math.round(now() - started)} ms`
    try {
      const out = await next(args)
      log(`AWS ${what}: ${took()}${attemptsOf(out.output?.$metadata)}`)
      return out
    } catch (err) {
      const meta = (err as { $metadata?: { attempts?: number } } | null)?.$metadata
      log(`AWS ${what}: failed after ${took()}${attemptsOf(meta)}: ${failureOf(err)}`)
      throw err
    }
  }
  const stack = client.middlewareStack as {
    add(m: InitializeMiddleware<object, MetadataBearer>, o: InitializeHandlerOptions & AbsoluteLocation): void
  }
  stack.add(middleware, { step: 'initialize', priority: 'high', name: NAME })
}
