/**
 * Issue 15, items 3, 4 and 6 (the stream on a restore), on DescribeTable's own answers: the real
 * check (discover → inspect → compare → plan, run/check-tables.ts) against tables made in moto,
 * behind a recording proxy. The pure tests (compare.test.ts, plan.test.ts) hand in the live
 * configuration; here moto's answers make it, so a change in how the live table is read (key types,
 * the stream) shows up.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { Check, PlanEntry } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, tableTemplate, type Item } from '../../test-support/orphans.js'
import { isReadOnlyOperation, type RecordingProxy } from '../../test-support/recording-proxy.js'
import {
  deps,
  makeInputs,
  runCheck,
  startRecordedMoto,
  stopRecordedMoto,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
const KEYS_N = { partition: { name: 'pk', type: 'N' as const } }
const KEYS_S = { partition: { name: 'pk', type: 'S' as const } }
const ITEMS_N: Item[] = [1, 2, 3].map(i => ({ pk: { N: String(i) }, note: { S: `note-${i}` } }))
const ITEMS_S: Item[] = [1, 2, 3].map(i => ({ pk: { S: `order-${i}` }, note: { S: `note-${i}` } }))

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let ws: Workspace | null = null

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto())
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
})
afterEach(() => {
  ws?.remove()
  ws = null
})

function entryOf(check: Check): PlanEntry {
  const entry = check.plan.entries.find(e => e.table === TABLE)
  if (!entry) throw new Error(`no plan entry for ${TABLE}`)
  return entry
}

function mutatingSince(mark: number): string[] {
  return rec
    .operations()
    .slice(mark)
    .filter(op => !isReadOnlyOperation(op))
}

describe('a key attribute whose type changes (live N, template S): blocked in the plan', () => {
  it('auto: blocked, the reason names pk and both types, and nothing is called that changes anything', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, keys: KEYS_N, items: ITEMS_N })
    ws = workspace(tableTemplate({ tableName: TABLE, keys: KEYS_S }))
    // aws-backup on: a copy outside the runner would exist, so only the key type can block it.
    const inputs = makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true })

    const mark = rec.calls.length
    const check = await runCheck(inputs, clients)
    const finding = check.inspection.findings.find(f => f.tableName === TABLE)
    // What moto's DescribeTable said, as the check read it.
    expect(finding?.live?.attributeTypes).toEqual({ pk: 'N' })
    expect(finding?.hasData).toBe(true)

    const entry = entryOf(check)
    expect(entry.decision).toBe('blocked')
    expect(entry.reasons.join(' ')).toMatch(
      /its items could not be restored into that table: Key attribute pk is N in the live table and S in the template: no live item holds pk as S/
    )
    expect(entry.reasons.join(' ')).toContain('Keep AttributeType N for pk in the template')
    expect(entry.differences).toContainEqual(
      expect.objectContaining({ property: 'AttributeDefinitions', live: 'pk (N)', template: 'pk (S)' })
    )

    // The blocked plan, executed: still nothing that changes anything, and the items stay.
    const { result } = await executePlan(check, inputs, deps(clients))
    expect(result.outcome).toBe('blocked')
    expect(result.backupManifests).toEqual([])
    expect(result.backupArns).toEqual([])
    expect(mutatingSince(mark)).toEqual([])
    expect(await tableContent(clients, TABLE)).toHaveLength(3)
  })

  it('the same table under a template with pk N is not blocked (the block is the type, not the table)', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, keys: KEYS_N, items: ITEMS_N })
    ws = workspace(tableTemplate({ tableName: TABLE, keys: KEYS_N }))
    const check = await runCheck(
      makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true }),
      clients
    )
    expect(entryOf(check).decision).toBe('import')
  })
})

describe('differences only where the values differ (StreamSpecification)', () => {
  it('live and template both KEYS_ONLY: no StreamSpecification difference', async () => {
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: TABLE,
      keys: KEYS_S,
      items: ITEMS_S,
      stream: 'KEYS_ONLY'
    })
    ws = workspace(
      tableTemplate({
        tableName: TABLE,
        keys: KEYS_S,
        properties: { StreamSpecification: { StreamViewType: 'KEYS_ONLY' } }
      })
    )
    const check = await runCheck(
      makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true }),
      clients
    )
    // moto reports the stream: the comparison had both sides.
    expect(check.inspection.findings.find(f => f.tableName === TABLE)?.live?.stream).toEqual({
      enabled: true,
      viewType: 'KEYS_ONLY'
    })
    const entry = entryOf(check)
    expect(entry.decision).toBe('import')
    expect(entry.differences.filter(d => d.property === 'StreamSpecification')).toEqual([])
    expect(entry.reasons.join(' ')).not.toMatch(/stream/i)
  })

  it('live KEYS_ONLY, template NEW_IMAGE: a difference, so the comparison does see the live stream', async () => {
    await makeUnmanagedTable(clients.dynamodb, {
      tableName: TABLE,
      keys: KEYS_S,
      items: ITEMS_S,
      stream: 'KEYS_ONLY'
    })
    ws = workspace(
      tableTemplate({
        tableName: TABLE,
        keys: KEYS_S,
        properties: { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } }
      })
    )
    const check = await runCheck(
      makeInputs(ws, { stackName: STACK, strategy: 'auto', awsBackup: true }),
      clients
    )
    expect(entryOf(check).differences).toContainEqual(
      expect.objectContaining({
        property: 'StreamSpecification',
        severity: 'dangerous',
        live: 'KEYS_ONLY',
        template: 'NEW_IMAGE'
      })
    )
  })
})

describe('a template stream on a table the plan backs up and restores', () => {
  it.each([
    ['the live table has no stream', undefined],
    ['the live table streams KEYS_ONLY too', 'KEYS_ONLY' as const]
  ])(
    'backup-restore (%s): a dangerous StreamSpecification difference that speaks of the restore',
    async (_name, liveStream) => {
      await makeUnmanagedTable(clients.dynamodb, {
        tableName: TABLE,
        keys: KEYS_S,
        items: ITEMS_S,
        ...(liveStream ? { stream: liveStream } : {})
      })
      ws = workspace(
        tableTemplate({
          tableName: TABLE,
          keys: KEYS_S,
          properties: { StreamSpecification: { StreamViewType: 'KEYS_ONLY' } }
        })
      )
      const inputs = makeInputs(ws, { stackName: STACK, strategy: 'backup-restore', awsBackup: true })
      const mark = rec.calls.length
      const check = await runCheck(inputs, clients)
      const entry = entryOf(check)
      expect(entry.decision).toBe('backup-restore')
      const stream = entry.differences.filter(d => d.property === 'StreamSpecification')
      expect(stream).toEqual([
        expect.objectContaining({
          severity: 'dangerous',
          live: liveStream ?? 'disabled',
          template: 'KEYS_ONLY',
          message: expect.stringMatching(
            /^The template enables a stream \(KEYS_ONLY\) on the table the deploy creates: the restore writes every item into it again, so each one reaches the stream's consumers .* as a new INSERT/
          )
        })
      ])
      // Not the import's wording: nothing here is imported.
      expect(stream[0]?.message).not.toMatch(/import/i)
      expect(entry.reasons).toContainEqual(
        expect.stringMatching(/^Warning \(StreamSpecification\): The template enables a stream/)
      )
      expect(mutatingSince(mark)).toEqual([])
    }
  )
})
