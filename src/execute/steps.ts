import { backupTimestamp } from '../data/backup-set.js'
import type { Clock, ExecutionStep } from '../types.js'

/**
 * Collects what a strategy did (or, in dry-run, would do), in order, for the summary. With a clock,
 * a table's steps after `begin(table)` carry how long each took: the time since the table's previous
 * step (or since `begin`), so the work between two steps counts for the second.
 */
export class StepLog {
  readonly steps: ExecutionStep[] = []
  private readonly since = new Map<string, number>()

  constructor(
    private readonly log: (message: string) => void,
    private readonly clock?: Pick<Clock, 'now'>
  ) {}

  /** Starts timing the steps of `table`. */
  begin(table: string): void {
    if (this.clock) this.since.set(table, this.clock.now())
  }

  done(table: string, action: string, detail: string): void {
    this.add({ table, action, status: 'done', detail })
  }

  planned(table: string, action: string, detail: string): void {
    this.add({ table, action, status: 'planned', detail })
  }

  failed(table: string, action: string, detail: string): void {
    this.add({ table, action, status: 'failed', detail })
  }

  skipped(table: string, action: string, detail: string): void {
    this.add({ table, action, status: 'skipped', detail })
  }

  add(step: ExecutionStep): void {
    const started = this.since.get(step.table)
    const now = this.clock?.now()
    const timed =
      started !== undefined && now !== undefined && step.durationMs === undefined && step.status !== 'planned'
        ? { ...step, durationMs: now - started }
        : step
    if (started !== undefined && now !== undefined) this.since.set(step.table, now)
    this.steps.push(timed)
    this.log(
      `${step.table}: ${step.action} ${step.status}: ${step.detail}${timed.durationMs !== undefined ? ` (${formatDuration(timed.durationMs)})` : ''}`
    )
  }
}

/** The exact request of a call a dry-run would make, as one line. */
export function callText(command: string, input: Record<string, unknown>): string {
  return `${command} ${JSON.stringify(input)}`
}

/** UTC to the second without separators: the name of a backup set (see data/backup-set.ts). */
export const timestamp = backupTimestamp

/** 950 → `0.9 s`; 65_000 → `1 min 5 s`; 3_725_000 → `1 h 2 min`. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${Math.floor(ms / 100) / 10} s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const min = Math.floor(s / 60)
  if (min < 60) return `${min} min${s % 60 ? ` ${s % 60} s` : ''}`
  return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`
}
