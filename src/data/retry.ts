/**
 * Which errors are worth another try, and how long to wait before it.
 *
 * Two retry layers exist and they are meant to: the SDK client retries each call a few times
 * itself (standard mode: 3 attempts, with a client-wide retry quota), and the engine retries on
 * top once the SDK has given up. The engine layer is the one that knows about UnprocessedItems
 * (which the SDK treats as success), shrinks concurrency on throttling, and keeps going for
 * longer than a single call should. The SDK's own retries are not hidden from it: a call that
 * succeeded after SDK retries (`$metadata.attempts > 1`) counts as a congestion signal.
 * For the tightest control build the data client with `maxAttempts: 1`.
 */
import type { Sleep } from '../types.js'

export type ErrorClass = 'throttle' | 'transient' | 'fatal'

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottledException',
  'TransactionInProgressException'
])

const TRANSIENT_NAMES = new Set([
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException'
])

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET'
])

interface AwsLikeError {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number; attempts?: number }
  $retryable?: { throttling?: boolean }
  cause?: unknown
}

export function classifyError(err: unknown): ErrorClass {
  if (err === null || typeof err !== 'object') return 'fatal'
  const e = err as AwsLikeError
  if ((e.name !== undefined && THROTTLE_NAMES.has(e.name)) || e.$retryable?.throttling === true)
    return 'throttle'
  if (e.$metadata?.httpStatusCode === 429) return 'throttle'
  if (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) return 'transient'
  if (e.code !== undefined && TRANSIENT_CODES.has(e.code)) return 'transient'
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined && status >= 500) return 'transient'
  if (e.$retryable !== undefined) return 'transient'
  if (typeof e.message === 'string' && /socket hang up|ECONNRESET|EPIPE|network|timed? ?out/i.test(e.message))
    return 'transient'
  if (e.cause !== undefined) return classifyError(e.cause) === 'fatal' ? 'fatal' : 'transient'
  return 'fatal'
}

export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 25, capMs: 5_000 }

/** "Full jitter" exponential backoff: uniform in [0, min(cap, base·2^attempt)). */
export function backoffDelay(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}

/** Runs `fn`, retrying throttling and transient errors with jittered backoff (reads: scans, describes). */
export async function withRetries<T>(
  fn: () => Promise<T>,
  opts: {
    sleep: Sleep
    random: () => number
    maxAttempts?: number
    policy?: BackoffPolicy
    onRetry?: (err: unknown, attempt: number) => void
  }
): Promise<T> {
  const maxAttempts = opts.maxAttempts ?? 8
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (classifyError(err) === 'fatal' || attempt >= maxAttempts) throw err
      opts.onRetry?.(err, attempt)
      await opts.sleep(backoffDelay(attempt, opts.random, opts.policy))
    }
  }
}
