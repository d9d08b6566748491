/**
 * How a run is told to stop (a cancelled job's SIGINT/SIGTERM in Actions, Ctrl-C in the CLI), and
 * what it owes then. The entries call request() on the signal; the run sees `signal` and stops at
 * its next safe point (a restore after the batches in flight, checkpoint written; no further table
 * starts; nothing is deleted after a stop); every undo still registered (a write fence) runs at
 * once, since nothing the run does after a stop may rely on it.
 */
import { errorMessage } from '../errors.js'
import type { Logger, StopHooks } from '../types.js'

export class RunStop implements StopHooks {
  private readonly controller = new AbortController()
  private readonly hooks = new Map<number, { name: string; undo: () => Promise<void> }>()
  private next = 0
  private undone: Promise<void> | null = null

  /** Aborted once a stop was requested. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  add(name: string, undo: () => Promise<void>): () => void {
    const id = this.next++
    this.hooks.set(id, { name, undo })
    return () => this.hooks.delete(id)
  }

  /**
   * Asks the run to stop, and runs every undo still registered (each hook once; a second request
   * returns the first one's promise). Resolves when the undos have settled; their failures are
   * logged, never thrown.
   */
  request(reason: string, logger: Logger): Promise<void> {
    if (this.undone) return this.undone
    const pending = [...this.hooks.values()]
    this.hooks.clear()
    logger.warning(
      `Stopped by ${reason}${pending.length > 0 ? `; undoing: ${pending.map(h => h.name).join(', ')}` : ''}. The run stops at its next safe point.`
    )
    this.controller.abort()
    this.undone = Promise.allSettled(
      pending.map(h =>
        h.undo().then(
          () => logger.info(`Undone: ${h.name}.`),
          (err: unknown) => logger.warning(`Could not undo ${h.name}: ${errorMessage(err)}`)
        )
      )
    ).then(() => undefined)
    return this.undone
  }
}
