/**
 * The read adapters against real moto, including the lies they work around, and the moto
 * harness itself (reset, stop, and no server left behind when its Node process dies).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AwsClients } from '../../src/aws/clients.js'
import {
  describeStackOrNull,
  stackForPhysicalId,
  listAllStackResources
} from '../../src/aws/cloudformation-read.js'
import { describeTableOrNull, tableHoldsData } from '../../src/aws/dynamodb-read.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  deleteStackAndWait,
  makeUnmanagedTable,
  putItems,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..')
let moto: MotoServer
let clients: AwsClients

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  if (clients) destroyClients(clients)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return check()
}

describe('cloudformation-read on moto', () => {
  it('describeStackOrNull finds a live stack and answers null once it is deleted, by name and by id', async () => {
    const stackId = await createStackAndWait(clients, 'pr-5-db', tableTemplate({ tableName: 'pr-5-main' }))
    expect((await describeStackOrNull(clients.cloudformation, 'pr-5-db'))?.StackStatus).toBe(
      'CREATE_COMPLETE'
    )
    expect(
      (await listAllStackResources(clients.cloudformation, stackId)).map(r => r.PhysicalResourceId)
    ).toEqual(['pr-5-main'])

    await deleteStackAndWait(clients.cloudformation, stackId)

    expect(await describeStackOrNull(clients.cloudformation, 'pr-5-db')).toBeNull()
    expect(await describeStackOrNull(clients.cloudformation, stackId)).toBeNull()
  })

  it('stackForPhysicalId answers null on moto even for a managed table (moto ignores PhysicalResourceId)', async () => {
    // Pins the emulator lie inspect works around; if moto learns the call, this fails and tells us.
    await createStackAndWait(clients, 'pr-5-db', tableTemplate({ tableName: 'pr-5-main' }))

    expect(await stackForPhysicalId(clients.cloudformation, 'pr-5-main')).toBeNull()
  })
})

describe('dynamodb-read on moto', () => {
  it('tableHoldsData is false for an empty table and true with one item; describeTableOrNull is null for none', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 't' })
    expect(await tableHoldsData(clients.dynamodb, 't')).toBe(false)

    await putItems(clients.dynamodb, 't', sampleItems(1))
    expect(await tableHoldsData(clients.dynamodb, 't')).toBe(true)
    expect(await describeTableOrNull(clients.dynamodb, 'missing')).toBeNull()
  })
})

describe('moto harness', () => {
  it('reset drops every table and stack', async () => {
    await createStackAndWait(clients, 'pr-5-db', tableTemplate({ tableName: 'pr-5-main' }))

    await moto.reset()

    expect(await describeTableOrNull(clients.dynamodb, 'pr-5-main')).toBeNull()
    expect(await describeStackOrNull(clients.cloudformation, 'pr-5-db')).toBeNull()
  })

  it('stop kills the server and is safe to call twice', async () => {
    const other = await startMoto()
    expect(alive(other.pid)).toBe(true)

    await Promise.all([other.stop(), other.stop()])
    await other.stop()

    expect(alive(other.pid)).toBe(false)
  })

  it('leaves no server behind when its Node process is SIGKILLed', async () => {
    const script = `const { startMoto } = await import('./test-support/moto.ts')
const m = await startMoto()
console.log(m.pid)
setInterval(() => {}, 1000)`
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit']
    })
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        parent.once('exit', code => reject(new Error(`harness child exited early (${code})`)))
        parent.stdout.setEncoding('utf8')
        parent.stdout.once('data', (line: string) => resolve(Number(line.trim())))
      })
      expect(alive(pid)).toBe(true)

      parent.kill('SIGKILL')

      expect(await waitUntil(() => !alive(pid), 10_000)).toBe(true)
    } finally {
      parent.kill('SIGKILL')
    }
  })
})
