/**
 * Test harness for moto (https://github.com/getmoto/moto) in server mode: one loopback port
 * serves DynamoDB, CloudFormation, S3 and STS. Each test file starts its own server on a free
 * port, so files run in parallel without sharing state.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

export interface MotoServer {
  endpoint: string
  port: number
  /** The server's process id (for tests of the harness itself). */
  pid: number
  /** Drops all state (tables, stacks, tags) in every service. */
  reset(): Promise<void>
  /** Kills the server; safe to call more than once. */
  stop(): Promise<void>
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const MOTO_VENV = join(REPO_ROOT, '.moto-venv')
/** Set by global-setup when moto could not be made available; startMoto throws it. */
export const MOTO_UNAVAILABLE_ENV = 'MOTO_UNAVAILABLE'
export const MOTO_PYTHON_ENV = 'MOTO_PYTHON'

async function canImportMoto(python: string): Promise<boolean> {
  try {
    await execFileP(python, ['-c', 'import moto.server'], { timeout: 60_000 })
    return true
  } catch {
    return false
  }
}

/**
 * A python interpreter that can `import moto.server`: the system python3 if it can, else the
 * git-ignored virtualenv <repo>/.moto-venv (created and filled with `pip install 'moto[server]'`
 * on first use). Throws one message saying what to install when neither works.
 */
export async function resolveMotoPython(log: (message: string) => void = () => {}): Promise<string> {
  if (await canImportMoto('python3')) return 'python3'

  const venvPython = join(MOTO_VENV, 'bin', 'python')
  if (existsSync(venvPython) && (await canImportMoto(venvPython))) return venvPython

  let reason: string
  try {
    log(`moto not importable by python3; installing moto[server] into ${MOTO_VENV}`)
    if (!existsSync(venvPython)) await execFileP('python3', ['-m', 'venv', MOTO_VENV], { timeout: 120_000 })
    await execFileP(venvPython, ['-m', 'pip', 'install', '--quiet', 'moto[server]'], { timeout: 600_000 })
    if (await canImportMoto(venvPython)) return venvPython
    reason = `${venvPython} still cannot import moto.server after pip install`
  } catch (err) {
    const e = err as { stderr?: string; message?: string }
    reason = (e.stderr || e.message || String(err)).trim().split('\n').slice(-3).join(' | ')
  }
  throw new Error(
    `moto is needed for the integration tests but is not available: python3 cannot import moto.server and ` +
      `setting up ${MOTO_VENV} failed (${reason}). Install it with \`python3 -m pip install 'moto[server]'\` ` +
      `(moto 5.x; on Debian/Ubuntu first \`apt-get install python3-venv python3-pip\`), then rerun the tests.`
  )
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs moto's server main, plus a watchdog thread: when our end of its stdin pipe closes (this
 * Node process exited, however it exited, even SIGKILL) the server exits too.
 */
const BOOTSTRAP = `
import os, sys, threading
def _watch():
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) })
    await res.body?.cancel()
    return true
  } catch {
    return false
  }
}

function spawnMoto(python: string, port: number): { child: ChildProcess; stderrTail: () => string } {
  const child = spawn(python, ['-c', BOOTSTRAP, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['pipe', 'ignore', 'pipe']
  })
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000)
  })
  // Neither the child nor its pipes keep this process alive; the watchdog ends the child with us.
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  ;(child.stderr as unknown as { unref?: () => void } | null)?.unref?.()
  child.stdin?.on('error', () => {}) // EPIPE when the child is already gone
  return { child, stderrTail: () => tail }
}

/** Starts moto on a free loopback port and waits until it answers. */
export async function startMoto(
  opts: { python?: string; startTimeoutMs?: number } = {}
): Promise<MotoServer> {
  const unavailable = process.env[MOTO_UNAVAILABLE_ENV]
  if (!opts.python && unavailable) throw new Error(unavailable)
  const python = opts.python ?? process.env[MOTO_PYTHON_ENV] ?? (await resolveMotoPython())
  const timeoutMs = opts.startTimeoutMs ?? 30_000

  let lastError = ''
  // A free port can be taken between probing and binding; a few fresh attempts cover that.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const endpoint = `http://127.0.0.1:${port}`
    const { child, stderrTail } = spawnMoto(python, port)
    let exited = false
    child.once('exit', () => {
      exited = true
    })
    const killOnExit = (): void => {
      child.kill('SIGKILL')
    }
    process.on('exit', killOnExit)

    let stopping: Promise<void> | null = null
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        process.off('exit', killOnExit)
        if (exited || child.exitCode !== null || child.signalCode !== null) return
        const gone = new Promise<void>(resolve => child.once('exit', () => resolve()))
        // The child is unref'd (it must not keep a test run alive), but its exit is awaited here:
        // without a ref, a moto slower than the SIGKILL timer to go (a big store, as in the
        // server-side bench) left nothing to keep this process alive, and it ended with `stop()`
        // never settled and nothing printed after it.
        child.ref()
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await gone
        clearTimeout(timer)
      })()
      return stopping
    }

    const deadline = Date.now() + timeoutMs
    while (!exited && Date.now() < deadline && !(await answers(endpoint))) await sleep(100)

    if (!exited && (await answers(endpoint))) {
      return {
        endpoint,
        port,
        pid: child.pid ?? -1,
        stop,
        async reset() {
          const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' })
          await res.body?.cancel()
          if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`)
        }
      }
    }
    lastError = exited
      ? `moto exited during start-up: ${stderrTail().trim()}`
      : `moto did not answer on ${endpoint} within ${timeoutMs} ms: ${stderrTail().trim()}`
    await stop()
  }
  throw new Error(lastError)
}
