/**
 * stderr as the CLI uses it: the log (the same lines the action logs, stages as headings), and the
 * progress of copies. On a terminal, progress is a bar per copy under way (items, percent, rate,
 * ETA), kept below the log and redrawn in place; elsewhere a line every few seconds.
 */
import { formatDuration, progressLine, progressLines } from '../data/progress.js'
import type { Logger, ProgressSink, ProgressUpdate } from '../types.js'
import { displayWidth, paint, stripAnsi, type TerminalStyle } from './terminal.js'

/** Where the CLI writes: a stream, maybe a terminal. */
export interface Output {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

/** How often bars are redrawn. */
export const BAR_INTERVAL_MS = 100
const BAR_CELLS = 24
const CLEAR_LINE = '\r\x1b[2K'
const UP = '\x1b[1A'

function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** One progress bar: `Restore T  [██████░░░░]  48%  28,800/60,000 items  1,234 items/s  ETA 25s`. */
export function renderBar(p: ProgressUpdate, style: TerminalStyle): string {
  const parts = [paint(style, 'bold', p.label)]
  const known = p.total !== null && p.total >= p.done
  if (known) {
    const total = p.total as number
    const ratio = total === 0 ? 1 : p.done / total
    const filled = Math.min(BAR_CELLS, Math.floor(ratio * BAR_CELLS))
    parts.push(
      `[${paint(style, 'cyan', '█'.repeat(filled))}${'░'.repeat(BAR_CELLS - filled)}]`,
      `${String(Math.floor(ratio * 100)).padStart(3)}%`,
      `${count(p.done)}/${count(total)} items`
    )
  } else parts.push(`${count(p.done)} items`)
  parts.push(`${count(p.rate)} items/s`)
  if (p.etaMs !== null) parts.push(`ETA ${formatDuration(p.etaMs)}`)
  const line = parts.join('  ')
  // Never wider than the terminal: a wrapped bar would break the redraw.
  if (displayWidth(line) < style.width) return line
  return stripAnsi(line).slice(0, Math.max(10, style.width - 1))
}

export class Screen {
  private readonly bars = new Map<string, ProgressUpdate>()
  private drawn = 0

  constructor(
    private readonly out: Output,
    private readonly style: { color: boolean; bars: boolean; width: () => number }
  ) {}

  private clear(): void {
    if (this.drawn === 0) return
    this.out.write(CLEAR_LINE + `${UP}${'\x1b[2K'}`.repeat(this.drawn - 1))
    this.drawn = 0
  }

  private draw(): void {
    if (this.bars.size === 0) return
    const style = { color: this.style.color, width: this.style.width() }
    const lines = [...this.bars.values()].map(p => renderBar(p, style))
    this.out.write(lines.join('\n'))
    this.drawn = lines.length
  }

  /** A line of the log, above the bars. */
  line(text: string): void {
    this.clear()
    this.out.write(`${text}\n`)
    this.draw()
  }

  /** Bars redrawn in place; a copy that ends leaves its last line in the log. */
  readonly progress: ProgressSink = {
    intervalMs: BAR_INTERVAL_MS,
    update: (p: ProgressUpdate): void => {
      const key = `${p.task}\0${p.table}\0${p.label}`
      if (p.state === 'running') {
        this.bars.set(key, p)
        this.clear()
        this.draw()
        return
      }
      this.bars.delete(key)
      this.line(progressLine(p))
    }
  }

  /** Removes the bars (before the report is printed, or when the CLI stops). */
  close(): void {
    this.bars.clear()
    this.clear()
  }
}

export interface ConsoleOptions {
  color: boolean
  debug: boolean
  /** Bars on a terminal; otherwise a progress line every `progressIntervalMs`. */
  bars: boolean
  progressIntervalMs?: number
}

/** The CLI's Logger: everything on stderr through the Screen. */
export function consoleLogger(screen: Screen, opts: ConsoleOptions): Logger {
  const style = { color: opts.color }
  const logger: Logger = {
    info: message => screen.line(message),
    warning: message => screen.line(`${paint(style, 'yellow', 'warning:')} ${message}`),
    notice: message => screen.line(`${paint(style, 'cyan', 'note:')} ${message}`),
    debug: message => {
      if (opts.debug) screen.line(paint(style, 'dim', `debug: ${message}`))
    },
    group: async (name, fn) => {
      screen.line(paint(style, 'bold', `==> ${name}`))
      return fn()
    }
  }
  logger.progress = opts.bars ? screen.progress : progressLines(logger, opts.progressIntervalMs)
  return logger
}
