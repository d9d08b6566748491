/**
 * The report for a terminal: the markdown the job summary shows (report/markdown.ts, so the
 * content is the same), rendered as text. Tables are aligned (the widest column wraps inside its
 * cell when the table is wider than the terminal), headings bold, code spans plain or cyan, escapes
 * and entities undone, `<details>` opened, lists and quotes indented. Colour (ANSI SGR) only when
 * `color` is set: the CLI sets it when stdout is a terminal and NO_COLOR is unset.
 *
 * Emoji stay in headings and prose but are left out of table cells: terminals disagree on the width
 * of many of them (🗑️, ⏭️, ⚠️), which would break the alignment; the words next to them carry the
 * meaning, and colour where there is colour.
 */

export interface TerminalStyle {
  color: boolean
  /** Columns to wrap prose and fit tables into. */
  width: number
}

const SGR = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m']
} as const

export type Paint = keyof typeof SGR

/** `text` in a colour or weight when colour is on, else as it is. */
export function paint(style: { color: boolean }, kind: Paint, text: string): string {
  if (!style.color || text === '') return text
  const [open, close] = SGR[kind]
  return `${open}${text}${close}`
}

// eslint-disable-next-line no-control-regex -- terminal escape sequences start with ESC
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g

/** Text without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
}

/** Columns a string takes on a terminal (escape sequences and combining marks take none). */
export function displayWidth(text: string): number {
  let width = 0
  for (const ch of stripAnsi(text)) {
    const cp = ch.codePointAt(0) as number
    if (ch === '\u200d' || ch === '\ufe0e' || ch === '\ufe0f' || /\p{M}/u.test(ch)) continue
    width += isWide(cp) ? 2 : 1
  }
  return width
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  // The report puts a zero-width space after @, # and www (and in ://) so GitHub links nothing
  // from outside text; a terminal links nothing anyway.
  '&#8203;': ''
}

/** Words that mean the same everywhere in the report, and their colour in a table cell. */
const WORD_COLOR: Record<string, Paint> = {
  blocked: 'red',
  failed: 'red',
  blocking: 'red',
  refused: 'red',
  dangerous: 'yellow',
  'backup-restore': 'yellow',
  delete: 'yellow',
  import: 'green',
  done: 'green',
  planned: 'cyan',
  none: 'dim',
  skipped: 'dim',
  converges: 'dim'
}

/**
 * Inline markdown → text: code spans (any number of backticks), `**bold**`, links, backslash
 * escapes, HTML entities and `<br>` (a line break, or `; ` inside a table cell).
 */
export function renderInline(text: string, style: TerminalStyle, inCell = false): string {
  let out = ''
  let bold = false
  let i = 0
  while (i < text.length) {
    const rest = text.slice(i)
    const code = /^(`+)([\s\S]*?[^`])\1(?!`)/.exec(rest) ?? /^(`+)()\1(?!`)/.exec(rest)
    if (code && rest.startsWith('`')) {
      let content = code[2] as string
      if (content.length > 1 && content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '')
        content = content.slice(1, -1)
      out += paint(style, 'cyan', content)
      i += code[0].length
      continue
    }
    if (rest.startsWith('\\') && rest.length > 1 && /[!-/:-@[-`{-~]/.test(rest[1] as string)) {
      out += rest[1]
      i += 2
      continue
    }
    if (rest.startsWith('**')) {
      if (style.color) out += bold ? SGR.bold[1] : SGR.bold[0]
      bold = !bold
      i += 2
      continue
    }
    const link = /^\[([^\]]*)\]\(([^)\s]+)\)/.exec(rest)
    if (link) {
      out += `${link[1]} (${link[2]})`
      i += link[0].length
      continue
    }
    const entity = /^&(amp|lt|gt|quot|#39|#8203);/.exec(rest)
    if (entity) {
      out += ENTITIES[entity[0]]
      i += entity[0].length
      continue
    }
    const br = /^<br\s*\/?>/i.exec(rest)
    if (br) {
      out += inCell ? '; ' : '\n'
      i += br[0].length
      continue
    }
    out += rest[0]
    i++
  }
  if (bold && style.color) out += SGR.bold[1]
  return out
}

/** Words of `text` (ANSI sequences kept with their word) in lines of at most `width` columns. */
export function wrapText(text: string, width: number, indent = '', hanging = indent): string[] {
  const lines: string[] = []
  for (const paragraph of text.split('\n')) {
    let line = ''
    let lineWidth = 0
    let prefix = lines.length === 0 ? indent : hanging
    for (const word of paragraph.split(' ').filter(w => w !== '')) {
      const w = displayWidth(word)
      if (line !== '' && prefix.length + lineWidth + 1 + w > width) {
        lines.push(prefix + line)
        prefix = hanging
        line = word
        lineWidth = w
      } else {
        line = line === '' ? word : `${line} ${word}`
        lineWidth += (lineWidth === 0 ? 0 : 1) + w
      }
    }
    lines.push(prefix + line)
  }
  return lines
}

function splitRow(line: string): string[] {
  const inner = line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
  return inner.split(/(?<!\\)\|/).map(c => c.trim())
}

function cellText(raw: string, style: TerminalStyle): string {
  const plain = renderInline(raw, { ...style, color: false }, true)
    .replace(/^\p{Extended_Pictographic}\ufe0f?\s+/u, '')
    .trim()
  const colour = WORD_COLOR[plain]
  if (colour !== undefined) return paint(style, colour, plain)
  return renderInline(raw, style, true)
    .replace(/^\p{Extended_Pictographic}\ufe0f?\s+/u, '')
    .trim()
}

function padTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)))
}

/**
 * Column widths that fit `available` columns: the widest columns give way first (down to a common
 * width, never below their longest word), so short columns stay whole and prose wraps.
 */
export function fitWidths(natural: number[], longestWord: number[], available: number): number[] {
  const total = (cap: number): number =>
    natural.reduce((sum, w, c) => sum + Math.min(w, Math.max(cap, longestWord[c] ?? 0)), 0)
  if (total(Number.POSITIVE_INFINITY) <= available) return natural
  let lo = 0
  let hi = Math.max(...natural)
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (total(mid) <= available) lo = mid
    else hi = mid - 1
  }
  // Even at their longest words the columns may not fit: then the terminal wraps the line.
  return natural.map((w, c) => Math.min(w, Math.max(lo, longestWord[c] ?? 0)))
}

/** A markdown table, aligned; when wider than the terminal, its widest columns wrap inside their cells. */
export function renderTable(lines: string[], style: TerminalStyle): string[] {
  const rows = lines.filter(l => !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(l.trim())).map(splitRow)
  const header = rows[0] ?? []
  const body = rows.slice(1)
  const cells = [
    header.map(h => renderInline(h, { ...style, color: false }, true)),
    ...body.map(r => r.map(c => cellText(c, style)))
  ]
  const columns = Math.max(...cells.map(r => r.length))
  const gap = 2
  const column = (c: number): string[] => cells.map(r => r[c] ?? '')
  const natural = Array.from({ length: columns }, (_, c) => Math.max(...column(c).map(displayWidth)))
  const longestWord = Array.from({ length: columns }, (_, c) =>
    Math.max(...column(c).flatMap(cell => cell.split(' ').map(displayWidth)))
  )
  const widths = fitWidths(natural, longestWord, style.width - gap * (columns - 1))
  const out: string[] = []
  cells.forEach((row, r) => {
    const wrapped = row.map((cell, c) =>
      displayWidth(cell) > (widths[c] as number) ? wrapText(cell, widths[c] as number) : [cell]
    )
    const height = Math.max(...wrapped.map(w => w.length))
    for (let l = 0; l < height; l++) {
      const parts = Array.from({ length: columns }, (_, c) => {
        const text = wrapped[c]?.[l] ?? ''
        const shown = r === 0 ? paint(style, 'bold', text) : text
        return c === columns - 1 ? shown : padTo(shown, widths[c] as number)
      })
      out.push(parts.join(' '.repeat(gap)).trimEnd())
    }
    if (r === 0) out.push(paint(style, 'dim', widths.map(w => '─'.repeat(w)).join(' '.repeat(gap))))
  })
  return out
}

const ALERT: Record<string, Paint> = {
  CAUTION: 'red',
  WARNING: 'yellow',
  IMPORTANT: 'yellow',
  NOTE: 'cyan',
  TIP: 'cyan'
}

/** The report's markdown as terminal text. */
export function renderForTerminal(markdown: string, style: TerminalStyle): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const fence = /^(`{3,}|~{3,})\s*(\S*)\s*$/.exec(line)
    if (fence) {
      const marker = fence[1] as string
      const body: string[] = []
      for (i++; i < lines.length; i++) {
        const l = lines[i] as string
        const close = /^(`{3,}|~{3,})$/.exec(l.trim())
        if (close && close[1]?.[0] === marker[0] && (close[1] as string).length >= marker.length) break
        body.push(l)
      }
      if (fence[2] === 'mermaid') out.push(paint(style, 'dim', '    (a flowchart: the job summary draws it)'))
      else out.push(...body.map(l => paint(style, 'dim', `    ${l}`)))
      continue
    }
    if (line.startsWith('|')) {
      const block: string[] = []
      for (; i < lines.length && (lines[i] as string).startsWith('|'); i++) block.push(lines[i] as string)
      i--
      out.push(...renderTable(block, style))
      continue
    }
    if (/^<\/?details>$/.test(line.trim())) continue
    const summary = /^<summary>(.*)<\/summary>$/.exec(line.trim())
    if (summary) {
      out.push(...wrapText(paint(style, 'bold', renderInline(summary[1] as string, style)), style.width))
      continue
    }
    const heading = /^(#{1,6}) (.*)$/.exec(line)
    if (heading) {
      const text = renderInline(heading[2] as string, { ...style, color: false })
      out.push(...wrapText(paint(style, 'bold', text), style.width))
      continue
    }
    const quote = /^>\s?(.*)$/.exec(line)
    if (quote) {
      const bar = paint(style, 'dim', '│ ')
      const alert = /^\[!([A-Z]+)\]$/.exec((quote[1] as string).trim())
      if (alert) out.push(bar + paint(style, ALERT[alert[1] as string] ?? 'bold', alert[1] as string))
      else out.push(...wrapText(renderInline(quote[1] as string, style), style.width, bar))
      continue
    }
    const bullet = /^(\s*)- (.*)$/.exec(line)
    if (bullet) {
      const indent = `${bullet[1]}  `
      out.push(
        ...wrapText(renderInline(bullet[2] as string, style), style.width, `${bullet[1]}• `, `${indent}`)
      )
      continue
    }
    const numbered = /^(\s*)(\d+)\. (.*)$/.exec(line)
    if (numbered) {
      const head = `${numbered[1]}${numbered[2]}. `
      out.push(
        ...wrapText(renderInline(numbered[3] as string, style), style.width, head, ' '.repeat(head.length))
      )
      continue
    }
    const italic = /^_(.+)_$/.exec(line.trim())
    if (italic) {
      out.push(...wrapText(paint(style, 'dim', renderInline(italic[1] as string, style)), style.width))
      continue
    }
    if (line.trim() === '') {
      if (out.length > 0 && out[out.length - 1] !== '') out.push('')
      continue
    }
    out.push(...wrapText(renderInline(line, style), style.width))
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop()
  return `${out.join('\n')}\n`
}
