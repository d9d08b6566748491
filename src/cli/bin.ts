#!/usr/bin/env node
/**
 * The CLI's entry point (dist/cli.js; `dynamodb-orphan-guard` in package.json's bin): runCli with
 * this process's arguments, streams and Ctrl-C, then exits with its code.
 */
import { runCli } from './cli.js'

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt: handler => {
      process.once('SIGINT', handler)
      return () => process.off('SIGINT', handler)
    }
  })
} catch (err) {
  // A bug, not a result: say so plainly, with the stack.
  process.stderr.write(
    `dynamodb-orphan-guard: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`
  )
  process.exitCode = 1
}
