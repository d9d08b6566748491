import { describe, expect, it } from '@jest/globals'
import { consoleLogger, renderBar, Screen } from '../../src/cli/console.js'
import { displayWidth } from '../../src/cli/terminal.js'
import { Progress } from '../../src/data/progress.js'
import type { ProgressUpdate } from '../../src/types.js'

function update(overrides: Partial<ProgressUpdate> = {}): ProgressUpdate {
  return {
    task: 'restore',
    table: 'pr-5-orders',
    label: 'Restore pr-5-orders',
    done: 28_800,
    total: 60_000,
    elapsedMs: 23_000,
    rate: 1252.2,
    etaMs: 25_000,
    state: 'running',
    ...overrides
  }
}

/** A terminal that only records what it is sent. */
function terminal(): { out: { write(s: string): void; isTTY: true }; text: () => string } {
  let text = ''
  return { out: { write: s => void (text += s), isTTY: true }, text: () => text }
}

describe('a progress bar', () => {
  it('shows items, percent, rate and ETA', () => {
    expect(renderBar(update(), { color: false, width: 100 })).toBe(
      'Restore pr-5-orders  [███████████░░░░░░░░░░░░░]   48%  28,800/60,000 items  1,252 items/s  ETA 25s'
    )
  })

  it('without a known total: items and rate', () => {
    expect(
      renderBar(update({ total: null, etaMs: null, label: 'Export t' }), { color: false, width: 100 })
    ).toBe('Export t  28,800 items  1,252 items/s')
  })

  it('never wider than the terminal (a wrapped bar could not be redrawn in place)', () => {
    const bar = renderBar(update(), { color: true, width: 40 })
    expect(displayWidth(bar)).toBeLessThan(40)
  })
})

describe('the screen: log lines above, bars redrawn in place below', () => {
  it('redraws a bar by clearing its line; a log line goes above it; the end leaves a line in the log', () => {
    const tty = terminal()
    const screen = new Screen(tty.out, { color: false, bars: true, width: () => 100 })
    screen.line('==> Restore pr-5-orders')
    screen.progress.update(update({ done: 100, label: 'Restore t' }))
    screen.progress.update(update({ done: 200, label: 'Restore t' }))
    screen.line('a log line')
    screen.progress.update(update({ done: 60_000, label: 'Restore t', state: 'done', etaMs: null }))
    const frames = tty.text().split('\r\x1b[2K')
    expect(frames[0]).toBe(
      '==> Restore pr-5-orders\nRestore t  [░░░░░░░░░░░░░░░░░░░░░░░░]    0%  100/60,000 items  1,252 items/s  ETA 25s'
    )
    expect(frames[1]).toMatch(/^Restore t {2}\[.*\] +0% {2}200\/60,000 items/)
    expect(frames[2]).toMatch(/^a log line\nRestore t {2}\[/)
    expect(frames[3]).toBe('Restore t: 60000/60000 items (100%), 1252 items/s — done in 23s\n')
  })

  it('two copies at once: two bars, both cleared before a log line', () => {
    const tty = terminal()
    const screen = new Screen(tty.out, { color: false, bars: true, width: () => 100 })
    screen.progress.update(update({ label: 'Export a', table: 'a', task: 'export' }))
    screen.progress.update(update({ label: 'Export b', table: 'b', task: 'export' }))
    screen.line('x')
    expect(
      tty
        .text()
        .endsWith(
          '\r\x1b[2K\x1b[1A\x1b[2Kx\nExport a  [███████████░░░░░░░░░░░░░]   48%  28,800/60,000 items  1,252 items/s  ETA 25s\nExport b  [███████████░░░░░░░░░░░░░]   48%  28,800/60,000 items  1,252 items/s  ETA 25s'
        )
    ).toBe(true)
  })
})

describe('the CLI logger', () => {
  it('with bars, a Progress draws them at their pace; without, a line every interval', () => {
    const tty = terminal()
    let now = 0
    const bars = consoleLogger(new Screen(tty.out, { color: false, bars: true, width: () => 100 }), {
      color: false,
      debug: false,
      bars: true
    })
    const p = new Progress({ label: 'Restore t', logger: bars, now: () => now, total: 10 })
    now = 100
    p.add(5)
    expect(tty.text()).toContain('Restore t  [')

    const piped = terminal()
    const lines = consoleLogger(new Screen(piped.out, { color: false, bars: false, width: () => 100 }), {
      color: false,
      debug: false,
      bars: false,
      progressIntervalMs: 2000
    })
    const q = new Progress({ label: 'Restore t', logger: lines, now: () => now, total: 10 })
    now = 1000
    q.add(5)
    now = 2100
    q.add(1)
    expect(piped.text()).toBe('Restore t: 6/10 items (60%), 3 items/s, ETA 1s\n')
  })

  it('shows debug lines only with --debug, stages as headings, warnings marked', async () => {
    const tty = terminal()
    const screen = new Screen(tty.out, { color: false, bars: false, width: () => 100 })
    const quiet = consoleLogger(screen, { color: false, debug: false, bars: false })
    quiet.debug('hidden')
    quiet.warning('careful')
    await quiet.group?.('Plan', async () => quiet.info('inside'))
    consoleLogger(screen, { color: false, debug: true, bars: false }).debug('shown')
    expect(tty.text()).toBe('warning: careful\n==> Plan\ninside\ndebug: shown\n')
  })
})
