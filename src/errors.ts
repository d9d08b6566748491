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

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
