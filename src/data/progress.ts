/**
 * Progress of long copies (export, restore, verification scans) as structured updates to a
 * ProgressSink: the logger's own sink when it has one (the CLI's bars on a terminal), else plain
 * log lines (Actions logs have no TTY), at most one every `intervalMs` of the injected clock, with
 * items done, rate and ETA when the total is known. The final update always comes.
 */
import type { Logger, ProgressSink, ProgressUpdate } from '../types.js'

export type ProgressSnapshot = Omit<ProgressUpdate, 'task' | 'table' | 'label' | 'state'>

/** Log lines every this many ms when nobody asked for another pace. */
export const LOG_INTERVAL_MS = 5000

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

/** The line a progress update makes in a log (the last one says how long the copy took). */
export function progressLine(p: ProgressUpdate): string {
  if (p.state === 'running') return formatProgress(p.label, p)
  const end = p.state === 'done' ? 'done in' : 'stopped after'
  return `${formatProgress(p.label, { ...p, etaMs: null })} — ${end} ${formatDuration(p.elapsedMs)}`
}

/** Progress as log lines through `logger.info`, one every `intervalMs` at most. */
export function progressLines(logger: Logger, intervalMs = LOG_INTERVAL_MS): ProgressSink {
  return { intervalMs, update: p => logger.info(progressLine(p)) }
}

export class Progress {
  private done = 0
  private readonly startedAt: number
  private lastUpdateAt: number
  private readonly base: number
  private readonly sink: ProgressSink
  private ended = false

  constructor(
    private readonly opts: {
      label: string
      logger: Logger
      now: () => number
      /** What kind of copy, and of which table (for sinks that show them apart). */
      task?: ProgressUpdate['task']
      table?: string
      total?: number | null
      /** The pace of log lines when the logger has no sink of its own. */
      intervalMs?: number
      initial?: number
    }
  ) {
    this.startedAt = opts.now()
    this.lastUpdateAt = this.startedAt
    this.done = opts.initial ?? 0
    this.base = this.done
    this.sink = opts.logger.progress ?? progressLines(opts.logger, opts.intervalMs)
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = this.opts.now() - this.startedAt
    const total = this.opts.total ?? null
    const rate = elapsedMs > 0 ? ((this.done - this.base) * 1000) / elapsedMs : 0
    const etaMs =
      total !== null && total >= this.done && rate > 0 ? ((total - this.done) * 1000) / rate : null
    return { done: this.done, total, elapsedMs, rate, etaMs }
  }

  private update(snap: ProgressSnapshot, state: ProgressUpdate['state']): void {
    this.sink.update({
      task: this.opts.task ?? 'restore',
      table: this.opts.table ?? this.opts.label,
      label: this.opts.label,
      ...snap,
      state
    })
  }

  /** Counts `n` more items; tells the sink when its interval has passed (one clock read per call). */
  add(n: number): void {
    this.done += n
    if (this.ended) return
    const now = this.opts.now()
    if (now - this.lastUpdateAt >= this.sink.intervalMs) {
      this.lastUpdateAt = now
      this.update(this.snapshot(), 'running')
    }
  }

  /** The final update (always, once): the copy is done, or it `stopped` (failed or interrupted). */
  finish(state: 'done' | 'stopped' = 'done'): ProgressSnapshot {
    const snap = this.snapshot()
    if (!this.ended) this.update(snap, state)
    this.ended = true
    return snap
  }
}
