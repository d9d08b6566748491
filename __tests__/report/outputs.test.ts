import { describe, expect, it } from '@jest/globals'
import { buildOutputs, planOutput, setOutputs } from '../../src/report/outputs.js'
import { blockedEntry, difference, entry, importEntry, result } from './builders.js'

const PLAN_KEYS = [
  'table',
  'region',
  'stack',
  'logicalId',
  'exists',
  'owner',
  'hasData',
  'differences',
  'decision',
  'reasons',
  'copy'
]

describe('buildOutputs', () => {
  const run = result({
    outcome: 'blocked',
    entries: [blockedEntry, importEntry, entry({ table: 'pr-5-fresh' })],
    backupManifests: ['backups/pr-5-audit.manifest.json'],
    backupArns: ['arn:aws:dynamodb:eu-west-1:1:table/pr-5-audit/backup/01'],
    restoredItems: 0
  })
  const outputs = buildOutputs(run)

  it('sets every output action.yml declares, as strings', () => {
    expect(Object.keys(outputs)).toEqual([
      'has-orphans',
      'orphans',
      'plan',
      'outcome',
      'backup-manifests',
      'backup-arns',
      'restored-items',
      'restore-needed',
      'pending-restores'
    ])
    expect(outputs).toMatchObject({
      'has-orphans': 'true',
      orphans: '["pr-5-audit","pr-5-main-table"]',
      outcome: 'blocked',
      'backup-manifests': '["backups/pr-5-audit.manifest.json"]',
      'backup-arns': '["arn:aws:dynamodb:eu-west-1:1:table/pr-5-audit/backup/01"]',
      'restored-items': '0'
    })
  })

  it('gives each plan object exactly the documented keys, in order, without the decision path', () => {
    const plan = JSON.parse(outputs.plan!) as Array<Record<string, unknown>>
    expect(plan).toHaveLength(3)
    for (const item of plan) expect(Object.keys(item)).toEqual(PLAN_KEYS)
    expect(plan[0]).toEqual({
      table: 'pr-5-main-table',
      region: null,
      stack: 'pr-5-database',
      logicalId: 'MainTable',
      exists: true,
      owner: 'retained',
      hasData: true,
      differences: blockedEntry.differences,
      decision: 'blocked',
      reasons: blockedEntry.reasons,
      copy: null
    })
  })

  it("names a backup-restore entry's copy path", () => {
    const entry = { ...blockedEntry, decision: 'backup-restore' as const, copy: 'server-side' as const }
    const out = buildOutputs(result({ outcome: 'resolved', entries: [entry] }))
    expect((JSON.parse(out.plan!) as Array<{ copy: string }>)[0]?.copy).toBe('server-side')
  })

  it('says "false" and empty arrays when nothing is orphaned or there is no plan', () => {
    expect(buildOutputs(result({ outcome: 'failed', plan: null }))).toEqual({
      'has-orphans': 'false',
      orphans: '[]',
      plan: '[]',
      outcome: 'failed',
      'backup-manifests': '[]',
      'backup-arns': '[]',
      'restored-items': '0',
      'restore-needed': 'false',
      'pending-restores': '[]'
    })
  })

  it('says which restores are owed: restore-needed and one pending-restores object per table, keys in order', () => {
    const owed = buildOutputs(
      result({
        pendingRestores: [
          {
            takenAt: '2025-03-04T05:06:07.123Z',
            backup: 's3://copies/pr-5/pr-5-orders/20250304T050607Z/manifest.json',
            source: 's3',
            table: 'pr-5-orders'
          },
          {
            table: 'pr-5-users',
            source: 'aws-backup',
            backup: 'arn:aws:dynamodb:eu-west-1:1:table/pr-5-users/backup/01',
            takenAt: '2025-03-04T05:06:09.000Z'
          }
        ]
      })
    )
    expect(owed['restore-needed']).toBe('true')
    expect(owed['pending-restores']).toBe(
      '[{"table":"pr-5-orders","source":"s3","backup":"s3://copies/pr-5/pr-5-orders/20250304T050607Z/manifest.json","takenAt":"2025-03-04T05:06:07.123Z"},' +
        '{"table":"pr-5-users","source":"aws-backup","backup":"arn:aws:dynamodb:eu-west-1:1:table/pr-5-users/backup/01","takenAt":"2025-03-04T05:06:09.000Z"}]'
    )
  })

  it('gives restored items as an integer string', () => {
    expect(buildOutputs(result({ outcome: 'restored', restoredItems: 1234 }))['restored-items']).toBe('1234')
  })
})

describe('planOutput keeps the plan under the output limit', () => {
  const entries = [
    { ...blockedEntry, differences: [difference({ live: 'l'.repeat(300), template: 't'.repeat(300) })] },
    { ...importEntry, differences: [difference({ live: 'l'.repeat(300), template: 't'.repeat(300) })] }
  ]
  const full = planOutput(entries).json

  it('is the full plan when it fits', () => {
    expect(planOutput(entries, full.length)).toEqual({ json: full })
  })

  it('first reduces differences to property and severity', () => {
    const { json, trimmed } = planOutput(entries, full.length - 1)
    expect(trimmed).toMatch(/property and severity/)
    const plan = JSON.parse(json) as Array<{ differences: unknown[] }>
    expect(plan[0]!.differences).toEqual([{ property: 'BillingMode', severity: 'converges' }])
    expect(Object.keys(plan[0]!)).toEqual(PLAN_KEYS)
  })

  it('then leaves differences out, then lists only the tables that fit', () => {
    const withoutDifferences = planOutput(entries.map(e => ({ ...e, differences: [] }))).json
    const bare = planOutput(entries, withoutDifferences.length)
    expect(bare).toEqual({ json: withoutDifferences, trimmed: 'differences are left out (empty arrays)' })
    const few = planOutput(entries, withoutDifferences.length - 1)
    expect(few.trimmed).toBe('differences are left out and only 1 of 2 tables are listed')
    expect(Buffer.byteLength(few.json)).toBeLessThan(withoutDifferences.length)
    expect((JSON.parse(few.json) as unknown[]).length).toBe(1)
  })
})

describe('setOutputs', () => {
  it('sets each output once and warns when the plan was trimmed to fit 1 MB', () => {
    const entries = Array.from({ length: 1500 }, (_, i) => ({
      ...importEntry,
      table: `t-${i}`,
      differences: [difference({ live: 'x'.repeat(400), template: 'y'.repeat(400) })]
    }))
    const set = new Map<string, string>()
    const warnings: string[] = []
    setOutputs(
      result({ outcome: 'dry-run', entries }),
      (name, value) => set.set(name, value),
      message => warnings.push(message)
    )
    expect([...set.keys()]).toHaveLength(9)
    expect(Buffer.byteLength(set.get('plan')!)).toBeLessThanOrEqual(1_000_000)
    expect((JSON.parse(set.get('plan')!) as unknown[]).length).toBe(1500)
    expect(warnings).toEqual([
      "The 'plan' output exceeds GitHub's 1 MB output limit: differences are reduced to property and severity (live/template values left out). The job summary has the full report."
    ])
  })
})
