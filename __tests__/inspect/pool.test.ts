import { describe, expect, it } from '@jest/globals'
import { mapWithConcurrency } from '../../src/inspect/pool.js'

/** A task that resolves only when the test says so, to observe how many run at once. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>(resolve => (open = resolve))
  return { open, opened }
}

describe('mapWithConcurrency', () => {
  it('never runs more than `concurrency` calls at once and keeps input order', async () => {
    const gates = Array.from({ length: 5 }, gate)
    let running = 0
    let peak = 0
    const result = mapWithConcurrency([0, 1, 2, 3, 4], 2, async i => {
      running++
      peak = Math.max(peak, running)
      await gates[i]!.opened
      running--
      return i * 10
    })
    // Finish out of order.
    for (const i of [1, 0, 3, 4, 2]) {
      gates[i]!.open()
      await new Promise(resolve => setImmediate(resolve))
    }

    expect(await result).toEqual([0, 10, 20, 30, 40])
    expect(peak).toBe(2)
  })

  it('rejects with the first error and starts no further calls', async () => {
    const started: number[] = []
    const run = mapWithConcurrency([0, 1, 2, 3], 1, async i => {
      started.push(i)
      if (i === 1) throw new Error('boom')
      return i
    })

    await expect(run).rejects.toThrow('boom')
    expect(started).toEqual([0, 1])
  })

  it.each([0, -1, 1.5])('refuses concurrency %p', async concurrency => {
    await expect(mapWithConcurrency([1], concurrency, async x => x)).rejects.toThrow(RangeError)
  })

  it('answers [] for no items', async () => {
    expect(await mapWithConcurrency([], 3, async x => x)).toEqual([])
  })
})
