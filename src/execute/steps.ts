import { backupTimestamp } from '../data/backup-set.js'
import type { ExecutionStep } from '../types.js'

/** Collects what a strategy did (or, in dry-run, would do), in order, for the summary. */
export class StepLog {
  readonly steps: ExecutionStep[] = []

  constructor(private readonly log: (message: string) => void) {}

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
    this.steps.push(step)
    this.log(`${step.table}: ${step.action} ${step.status}: ${step.detail}`)
  }
}

/** The exact request of a call a dry-run would make, as one line. */
export function callText(command: string, input: Record<string, unknown>): string {
  return `${command} ${JSON.stringify(input)}`
}

/** UTC to the second without separators: the name of a backup set (see data/backup-set.ts). */
export const timestamp = backupTimestamp
