/** Bad input: names the input (or file) at fault. Raised before any AWS call. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`Input '${input}': ${message}`)
    this.name = 'InputError'
  }
}

/** A file the action had to read is unreadable or malformed; names the file. */
export class FileError extends Error {
  constructor(
    readonly file: string,
    message: string
  ) {
    super(`${file}: ${message}`)
    this.name = 'FileError'
  }
}

/** An AWS operation failed; `state` says what state things were left in and how to go on. */
export class OperationError extends Error {
  constructor(
    message: string,
    readonly state: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'OperationError'
  }
}

/**
 * The run was asked to stop (Ctrl-C in the CLI, a cancelled job) and stopped at a safe point:
 * between two batches of a restore (its checkpoint written), between two pages of a scan, or before
 * the next table. `state` says where things are and how to go on.
 */
export class Interrupted extends OperationError {
  constructor(message: string, state: string) {
    super(message, state)
    this.name = 'Interrupted'
  }
}

/** Throws Interrupted when `signal` was aborted. */
export function stopIfInterrupted(signal: AbortSignal | undefined, message: string, state: string): void {
  if (signal?.aborted === true) throw new Interrupted(message, state)
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

/**
 * A name that comes from outside (an attribute, a table, an index) inside a message: a CommonMark
 * code span whose fence is longer than any backtick run in the name (padded when the name starts
 * or ends with one), so a report shows the name as it is and no markdown in it takes effect. Line
 * breaks become spaces; an empty name shows as `""`.
 */
export function code(text: string): string {
  const oneLine = text.replace(/\r\n|\r|\n/g, ' ')
  if (oneLine === '') return '""'
  const longestRun = (oneLine.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0)
  const fence = '`'.repeat(longestRun + 1)
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${oneLine}${pad}${fence}`
}
