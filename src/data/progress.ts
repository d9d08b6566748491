/**
 * Progress lines for long copies: plain log lines (Actions logs have no TTY), at most one every
 * `intervalMs` of the injected clock, with items done, rate and ETA when the total is known.
 */
import type { Logger } from '../types.js'

export interface ProgressSnapshot {
  done: number
  total: number | null
  elapsedMs: number
  /** Items per second since the start. */
  rate: number
  /** Milliseconds left at the current rate, null when unknown. */
  etaMs: number | null
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

export function formatProgress(label: string, p: ProgressSnapshot): string {
  const known = p.total !== null && p.total >= p.done
  const done = known
    ? `${p.done}/${p.total} items (${p.total === 0 ? 100 : Math.floor((p.done * 100) / (p.total as number))}%)`
    : `${p.done} items`
  const eta = p.etaMs !== null ? `, ETA ${formatDuration(p.etaMs)}` : ''
  return `${label}: ${done}, ${Math.round(p.rate)} items/s${eta}`
}

export class Progress {
  private done = 0
  private readonly startedAt: number
  private lastLogAt: number
  private readonly base: number

  constructor(
    private readonly opts: {
      label: string
      logger: Logger
      now: () => number
      total?: number | null
      intervalMs?: number
      initial?: number
    }
  ) {
    this.startedAt = opts.now()
    this.lastLogAt = this.startedAt
    this.done = opts.initial ?? 0
    this.base = this.done
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = this.opts.now() - this.startedAt
    const total = this.opts.total ?? null
    const rate = elapsedMs > 0 ? ((this.done - this.base) * 1000) / elapsedMs : 0
    const etaMs =
      total !== null && total >= this.done && rate > 0 ? ((total - this.done) * 1000) / rate : null
    return { done: this.done, total, elapsedMs, rate, etaMs }
  }

  add(n: number): void {
    this.done += n
    const now = this.opts.now()
    if (now - this.lastLogAt >= (this.opts.intervalMs ?? 5000)) {
      this.lastLogAt = now
      this.opts.logger.info(formatProgress(this.opts.label, this.snapshot()))
    }
  }

  /** Logs the final line (always). */
  finish(): ProgressSnapshot {
    const snap = this.snapshot()
    this.opts.logger.info(
      `${formatProgress(this.opts.label, { ...snap, etaMs: null })} — done in ${formatDuration(snap.elapsedMs)}`
    )
    return snap
  }
}
