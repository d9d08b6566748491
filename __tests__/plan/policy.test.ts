import { isProtectedStage, makePolicy } from '../../src/plan/policy.js'

const DEFAULTS = ['prod', 'production', 'prod-*', 'live']

describe('isProtectedStage', () => {
  it.each([
    ['an exact name is protected', 'prod', DEFAULTS, true],
    ['a glob matches: prod-* matches prod-eu', 'prod-eu', DEFAULTS, true],
    ['matching is case-insensitive', 'PROD-EU', DEFAULTS, true],
    [
      'a pattern matches the whole name: prod does not match production-ish',
      'production-ish',
      ['prod'],
      false
    ],
    ['prod-* does not match prod itself', 'prod', ['prod-*'], false],
    ['a PR stage is not protected by the defaults', 'pr-5', DEFAULTS, false],
    ['no patterns → nothing is protected', 'prod', [], false],
    ['blank patterns are ignored', 'pr-5', ['', '  '], false],
    ['patterns are trimmed', 'live', [' live '], true],
    ['a leading ! is literal, never a negation that protects everything else', 'pr-5', ['!prod'], false],
    ['dots in stage names match *', 'prod.eu', ['prod*'], true],
    ['character classes work', 'prod-1', ['prod-[0-9]'], true]
  ])('%s', (_rule, stage, patterns, expected) => {
    expect(isProtectedStage(stage, patterns)).toBe(expected)
  })
})

describe('makePolicy', () => {
  it('carries stage, strategy and allow-data-loss, and computes protection', () => {
    expect(
      makePolicy({ stage: 'prod-eu', strategy: 'auto', protectedStages: DEFAULTS, allowDataLoss: false })
    ).toEqual({ stage: 'prod-eu', strategy: 'auto', protectedStage: true, allowDataLoss: false })
    expect(
      makePolicy({ stage: 'pr-5', strategy: 'delete', protectedStages: DEFAULTS, allowDataLoss: true })
    ).toEqual({
      stage: 'pr-5',
      strategy: 'delete',
      protectedStage: false,
      allowDataLoss: true
    })
  })
})
