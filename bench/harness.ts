/**
 * What the bench scripts share: measurements in child processes (each its own peak RSS), servers
 * in their own processes, and counting a table's items.
 */
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CreateTableCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient
} from '@aws-sdk/client-dynamodb'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const log = (m: string): void => void process.stderr.write(`${m}\n`)

export type Result = Record<string, unknown> & { items: number; seconds: number; peakRssMB?: number }

/** How workers are started: the ncc bundle (as the action ships) or, failing that, through tsx. */
let workerCommand: string[] = ['--no-warnings', '--import', './scripts/register-ts.mjs', 'bench/worker.ts']
export let workerKind = 'tsx (TypeScript loader in the process)'

/**
 * Bundles bench/worker.ts with ncc, the bundler the action ships with, so peak RSS is that of the
 * shipped code (the tsx loader adds its own memory on top). Falls back to tsx when ncc fails.
 * Not transpile-only (`-t`): that emits CommonJS, whose `require` conditions the ESM-only
 * @actions/http-client (src/aws/proxy.ts) does not export, and the bundle fails.
 */
export function bundleWorker(dir: string): void {
  const out = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js'),
      'build',
      'bench/worker.ts',
      '-o',
      dir,
      '--target',
      'es2022',
      '-q'
    ],
    { cwd: ROOT, encoding: 'utf8' }
  )
  if (out.status === 0) {
    workerCommand = ['--no-warnings', join(dir, 'index.js')]
    workerKind = 'ncc bundle (as the action ships)'
  } else
    log(`  ncc bundle failed, workers run through tsx: ${(out.stderr || out.stdout).split('\n')[0] ?? ''}`)
}

export function worker(
  task: string,
  args: Record<string, unknown>,
  nodeFlags: string[] = []
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, ...workerCommand, task, JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('exit', code => {
      const last = out.trim().split('\n').pop() ?? ''
      if (code !== 0) reject(new Error(`bench worker ${task} exited with ${code}: ${out}`))
      else resolve(JSON.parse(last) as Result)
    })
  })
}

/** Starts bench/<script> in its own process; it prints {"endpoint"} and stops when stdin closes. */
export async function startServerProcess(script: string): Promise<{ endpoint: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--no-warnings', '--import', './scripts/register-ts.mjs', `bench/${script}`],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] }
  )
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n'))
        resolve((JSON.parse(out.split('\n')[0] as string) as { endpoint: string }).endpoint)
    })
    child.on('exit', code => reject(new Error(`${script} exited with ${code}`)))
  })
  return { endpoint, stop: () => void child.stdin.end() }
}

/** What a worker printed before it was killed (it is expected to die by a signal). */
export function workerUntilKilled(
  task: string,
  args: Record<string, unknown>
): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...workerCommand, task, JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal === null)
        reject(new Error(`bench worker ${task} exited with ${code} instead of being killed: ${out}`))
      else
        resolve(
          out
            .trim()
            .split('\n')
            .filter(l => l.startsWith('{'))
            .map(l => JSON.parse(l) as Record<string, unknown>)
        )
    })
  })
}

export async function countItems(ddb: DynamoDBClient, table: string, segments = 4): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, Segment) => {
      let n = 0
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined
      do {
        const page = await ddb.send(
          new ScanCommand({
            TableName: table,
            Segment,
            TotalSegments: segments,
            Select: 'COUNT',
            ExclusiveStartKey
          })
        )
        n += page.Count ?? 0
        ExclusiveStartKey = page.LastEvaluatedKey
      } while (ExclusiveStartKey !== undefined)
      return n
    })
  )
  return counts.reduce((a, b) => a + b, 0)
}

/** The bench's table: keys pk and sk (strings), on demand. */
export function createBenchTable(ddb: Pick<DynamoDBClient, 'send'>, name: string): Promise<unknown> {
  return ddb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' }
      ],
      BillingMode: 'PAY_PER_REQUEST'
    })
  )
}
