/**
 * Streaming readers for backup data: our gzip NDJSON files (S3-export line format) and the
 * `{"Items":[...]}` file written by `aws dynamodb scan` (today's scripts).
 *
 * Both yield items in small arrays (one per chunk read) so memory stays flat in the file size;
 * both name the file and line of any defect.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { createHash } from 'node:crypto'
import { isUtf8 } from 'node:buffer'
import { FileError, errorMessage } from '../errors.js'
import type { WireItem } from './dynamodb-json.js'
import { LINE_PREFIX } from './manifest.js'

export interface SourceItem {
  /** 1-based line of the item in the file (for the legacy file: the line where the item starts). */
  line: number
  item: WireItem
  /** The item's DynamoDB JSON exactly as it is in the file (sent as is by the restore). */
  text: string
}

const CHUNK = 256 * 1024

/** sha256 (hex) and size of a file's bytes. */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      hash.update(chunk as Buffer)
      bytes += (chunk as Buffer).length
    }
  } catch (err) {
    throw new FileError(path, `cannot read (${errorMessage(err)})`)
  }
  return { sha256: hash.digest('hex'), bytes }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0)
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b
  } finally {
    await fh.close()
  }
}

/** The bytes of a file, gunzipped when it is gzip, in chunks; read errors name the file. */
async function* byteChunks(
  path: string,
  gzip: boolean | 'auto',
  where: () => string
): AsyncGenerator<Buffer> {
  let zipped: boolean
  try {
    zipped = gzip === 'auto' ? await isGzip(path) : gzip
  } catch (err) {
    throw new FileError(path, `cannot read (${errorMessage(err)})`)
  }
  const file = createReadStream(path, { highWaterMark: CHUNK })
  const source = zipped ? file.pipe(createGunzip({ chunkSize: 64 * 1024 })) : file
  if (zipped) file.on('error', err => source.destroy(err))
  try {
    for await (const chunk of source) yield chunk as Buffer
  } catch (err) {
    if (err instanceof FileError) throw err
    const e = err as { code?: string }
    const what =
      typeof e.code === 'string' && e.code.startsWith('Z_') ? 'corrupt or truncated gzip data' : 'read error'
    throw new FileError(path, `${what} ${where()} (${errorMessage(err)})`)
  } finally {
    file.destroy()
  }
}

/** Decoded text chunks of a file, gunzipped when it is gzip; invalid UTF-8 is an error. */
async function* textChunks(
  path: string,
  gzip: boolean | 'auto',
  where: () => string
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  for await (const chunk of byteChunks(path, gzip, where)) {
    let text: string
    try {
      text = decoder.decode(chunk, { stream: true })
    } catch {
      throw new FileError(path, `invalid UTF-8 ${where()}`)
    }
    yield text
  }
  try {
    const rest = decoder.decode()
    if (rest !== '') yield rest
  } catch {
    throw new FileError(path, `invalid UTF-8 at the end of the file`)
  }
}

/**
 * Where JSON.parse stopped, without its message: V8 quotes the text it failed on (`Unexpected
 * token 's', "secret…" is not valid JSON`), which is the item's data.
 */
function jsonErrorPlace(err: unknown): string {
  const at = /at position (\d+)/.exec(errorMessage(err))
  return at ? ` (at character ${at[1]})` : ''
}

const NEWLINE = 10
/** Items per group yielded by readDataFile (one BatchWriteItem holds 25). */
const YIELD_ITEMS = 25

export function parseLine(path: string, line: number, text: string): SourceItem {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new FileError(path, `line ${line}: not valid JSON${jsonErrorPlace(err)}`)
  }
  const item = (v as { Item?: unknown } | null)?.Item
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new FileError(path, `line ${line}: expected {"Item":{...}} (DynamoDB S3-export line format)`)
  }
  // Our writer (and S3 export) put "Item" first and alone: its text is the line minus the wrapper.
  const exact = text.startsWith(LINE_PREFIX) && text.endsWith('}') && Object.keys(v as object).length === 1
  return {
    line,
    item: item as WireItem,
    text: exact ? text.slice(LINE_PREFIX.length, -1) : JSON.stringify(item)
  }
}

export interface SourceLine {
  /** 1-based line number. */
  line: number
  /** The line's text, without its newline. */
  text: string
}

/**
 * Lines of a gzip NDJSON data file, unparsed, a few at a time. `skipLines` lines are counted but
 * not yielded (resume). Empty lines and a missing final newline are errors naming the line.
 */
export async function* readDataLines(
  path: string,
  opts: { skipLines?: number } = {}
): AsyncGenerator<SourceLine[]> {
  const skip = opts.skipLines ?? 0
  let line = 0
  // Bytes of a line that a chunk boundary cut (a newline byte is never part of a multi-byte
  // UTF-8 character, so lines are found in the bytes).
  let carry: Buffer | null = null
  let out: SourceLine[] = []
  const take = (bytes: Buffer): void => {
    line++
    if (line <= skip) return
    // A UTF-8 byte order mark before the first line is not part of it (as TextDecoder drops it).
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3)
    if (bytes.length === 0) throw new FileError(path, `line ${line}: empty line`)
    if (!isUtf8(bytes)) throw new FileError(path, `line ${line}: invalid UTF-8`)
    // Each line becomes its own small string (not a slice of a chunk-sized one), so what a
    // consumer holds while it waits is just its lines.
    out.push({ line, text: bytes.toString('utf8') })
  }
  for await (const chunk of byteChunks(path, true, () => `after line ${line}`)) {
    let start = 0
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl)
      take(carry === null ? piece : Buffer.concat([carry, piece]))
      carry = null
      start = nl + 1
      // Handed over a few at a time: the consumer may wait (for a write window) while it holds
      // a group, and what it holds across that wait outlives V8's young generation.
      if (out.length === YIELD_ITEMS) {
        yield out
        out = []
      }
    }
    if (start < chunk.length) {
      const tail = chunk.subarray(start)
      carry = carry === null ? Buffer.from(tail) : Buffer.concat([carry, tail])
    }
    if (out.length > 0) {
      yield out
      out = []
    }
  }
  if (carry !== null) {
    // The writer ends every line with \n: a last line without one is a truncated file.
    throw new FileError(path, `line ${line + 1}: truncated (no newline at the end of the file)`)
  }
}

/** Items of a gzip NDJSON data file (each line parsed). `skipLines` as for readDataLines. */
export async function* readDataFile(
  path: string,
  opts: { skipLines?: number } = {}
): AsyncGenerator<SourceItem[]> {
  for await (const lines of readDataLines(path, opts)) yield lines.map(l => parseLine(path, l.line, l.text))
}

/**
 * Items of the `{"Items":[...]}` file that `aws dynamodb scan` writes, read as a stream: a small
 * scanner tracks JSON nesting (strings and escapes included) and hands each element of the
 * top-level "Items" array to JSON.parse on its own, so memory holds one item at a time, not the
 * file. Plain or gzip. The first `skipItems` items are counted but not parsed (resume).
 */
export async function* readLegacyFile(
  path: string,
  opts: { skipItems?: number } = {}
): AsyncGenerator<SourceItem[]> {
  const skip = opts.skipItems ?? 0
  let line = 1
  let depth = 0
  let inString = false
  let escape = false
  let key = ''
  let stringAtDepth1 = ''
  let collectingKey = false
  let itemsDepth = -1
  let sawItems = false
  let itemsClosed = false
  let parts: string[] | null = null
  let itemStartLine = 0
  let index = 0
  for await (const text of textChunks(path, 'auto', () => `near line ${line}`)) {
    const out: SourceItem[] = []
    let captureFrom = parts !== null ? 0 : -1
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 10) line++
      if (inString) {
        if (escape) escape = false
        else if (c === 92) escape = true
        else if (c === 34) {
          inString = false
          if (collectingKey) {
            collectingKey = false
            stringAtDepth1 = key
          }
        } else if (collectingKey) key += text[i]
        continue
      }
      if (
        depth === itemsDepth &&
        c !== 123 &&
        c !== 44 &&
        c !== 93 &&
        c !== 32 &&
        c !== 10 &&
        c !== 13 &&
        c !== 9
      ) {
        throw new FileError(path, `line ${line}: Items[${index}] is not an object`)
      }
      switch (c) {
        case 34: // "
          inString = true
          if (depth === 1) {
            collectingKey = true
            key = ''
          }
          break
        case 58: // :
          if (depth === 1) key = stringAtDepth1
          break
        case 44: // ,
          if (depth === 1) key = ''
          break
        case 123: // {
        case 91: // [
          if (depth === 0 && c !== 123)
            throw new FileError(
              path,
              `line ${line}: expected a JSON object like {"Items":[...]} (aws dynamodb scan output)`
            )
          if (c === 91 && depth === 1 && key === 'Items') {
            itemsDepth = 2
            sawItems = true
          } else if (depth === itemsDepth) {
            parts = []
            captureFrom = i
            itemStartLine = line
          }
          depth++
          break
        case 125: // }
        case 93: // ]
          depth--
          if (depth < 0) throw new FileError(path, `line ${line}: unbalanced ${String.fromCharCode(c)}`)
          if (parts !== null && depth === itemsDepth) {
            parts.push(text.slice(captureFrom, i + 1))
            const json = parts.join('')
            parts = null
            captureFrom = -1
            if (index >= skip) {
              let item: unknown
              try {
                item = JSON.parse(json)
              } catch (err) {
                throw new FileError(
                  path,
                  `line ${itemStartLine}: Items[${index}] is not valid JSON${jsonErrorPlace(err)}`
                )
              }
              out.push({ line: itemStartLine, item: item as WireItem, text: json })
            }
            index++
          } else if (c === 93 && depth === 1 && itemsDepth === 2) {
            itemsDepth = -1
            itemsClosed = true
          }
          break
        default:
          break
      }
    }
    if (parts !== null && captureFrom >= 0) parts.push(text.slice(captureFrom))
    if (out.length > 0) yield out
  }
  if (depth !== 0 || inString)
    throw new FileError(
      path,
      `truncated: the JSON ends at line ${line} inside ${parts !== null ? `Items[${index}]` : 'the document'}`
    )
  if (!sawItems)
    throw new FileError(path, 'no top-level "Items" array (expected the output of `aws dynamodb scan`)')
  if (!itemsClosed) throw new FileError(path, 'the "Items" array is not closed')
}
