import { describe, expect, it } from '@jest/globals'
import { PROTECTED_STAGES_DEFAULT, splitPatterns } from '../../src/inputs.js'
import { isProtectedStage, makePolicy, protection } from '../../src/plan/policy.js'
import type { CallerIdentity } from '../../src/types.js'

const DEFAULTS = splitPatterns('protected-stages', PROTECTED_STAGES_DEFAULT)

describe('the default protected-stages: a word (between - _ .) that starts with prod or live, any case', () => {
  it('is two patterns, each brace pattern kept whole', () => {
    expect(DEFAULTS).toEqual(['{prod,live}*', '*[-._]{prod,live}*'])
  })

  it.each([
    // the matrix of the issue
    ['prod', true],
    ['production', true],
    ['production-eu', true],
    ['productionEU', true],
    ['eu-prod', true],
    ['eu-production', true],
    ['prod_eu', true],
    ['prod.eu', true],
    ['prod1', true],
    ['prod-1', true],
    ['live-eu', true],
    ['eu-live', true],
    ['live', true],
    // case and position
    ['PROD', true],
    ['Prod-EU', true],
    ['EU-LIVE', true],
    ['eu_prod_2', true],
    ['a.b.prod', true],
    ['a-live.b', true],
    ['liveness', true],
    ['products', true],
    // not protected: no word starts with prod or live
    ['pr-5', false],
    ['pr-prod', true],
    ['dev', false],
    ['staging', false],
    ['preprod', false],
    ['nonprod', false],
    ['delivery', false],
    ['olive-5', false],
    ['reproduce', false],
    ['p-rod', false]
  ])('%s → %s', (stage, expected) => {
    expect(isProtectedStage(stage, DEFAULTS)).toBe(expected)
  })
})

describe('isProtectedStage with patterns of its own', () => {
  it.each([
    ['an exact name is protected', 'prod', ['prod'], true],
    ['a glob matches: prod-* matches prod-eu', 'prod-eu', ['prod-*'], true],
    ['matching is case-insensitive', 'PROD-EU', ['prod-*'], true],
    [
      'a pattern matches the whole name: prod does not match production-ish',
      'production-ish',
      ['prod'],
      false
    ],
    ['prod-* does not match prod itself', 'prod', ['prod-*'], false],
    ['no patterns → nothing is protected', 'prod', [], false],
    ['blank patterns are ignored', 'pr-5', ['', '  '], false],
    ['patterns are trimmed', 'live', [' live '], true],
    ['a leading ! is literal, never a negation that protects everything else', 'pr-5', ['!prod'], false],
    ['dots in stage names match *', 'prod.eu', ['prod*'], true],
    ['character classes work', 'prod-1', ['prod-[0-9]'], true],
    ['a brace pattern: {prod,live}-* matches live-eu', 'live-eu', ['{prod,live}-*'], true],
    ['a brace pattern: {prod,live}-* does not match live', 'live', ['{prod,live}-*'], false]
  ])('%s', (_rule, stage, patterns, expected) => {
    expect(isProtectedStage(stage, patterns)).toBe(expected)
  })
})

describe('splitPatterns: commas and newlines split, except inside braces', () => {
  it.each([
    ['prod,live', ['prod', 'live']],
    ['prod\nlive\r\nstaging', ['prod', 'live', 'staging']],
    ['{prod,live}-*', ['{prod,live}-*']],
    ['{prod,live}-*, qa', ['{prod,live}-*', 'qa']],
    ['a{b,{c,d}}e,f', ['a{b,{c,d}}e', 'f']],
    ['x\\,y,z', ['x\\,y', 'z']],
    [' , ,prod ,', ['prod']]
  ])('%j → %j', (value, expected) => {
    expect(splitPatterns('protected-stages', value)).toEqual(expected)
  })

  it.each([['{prod,live-*'], ['prod}-*,live'], ['{a,b}},c']])(
    '%j: unbalanced braces name the input',
    value => {
      expect(() => splitPatterns('protected-stages', value)).toThrow(/Input 'protected-stages'/)
    }
  )

  it('{prod,live}-* split on its comma would protect only live-*, not prod-*: kept whole it protects both', () => {
    const patterns = splitPatterns('protected-stages', '{prod,live}-*')
    expect(isProtectedStage('prod-eu', patterns)).toBe(true)
    expect(isProtectedStage('live-eu', patterns)).toBe(true)
  })
})

const account = (id: string): CallerIdentity => ({
  account: id,
  arn: `arn:aws:sts::${id}:assumed-role/deployer/GitHubActions`,
  userId: 'AROAEXAMPLE:GitHubActions',
  partition: 'aws'
})

describe('protection: the stage, or the account (protected-accounts)', () => {
  const base = { stage: 'pr-5', protectedStages: DEFAULTS }
  it.each([
    ['no protected-accounts: the account does not matter', [], account('123456789012'), null],
    ['no protected-accounts and no identity: not protected', [], null, null],
    [
      'the account is protected',
      ['123456789012'],
      account('123456789012'),
      'account 123456789012 is protected (protected-accounts)'
    ],
    ['another account is not', ['123456789012'], account('210987654321'), null],
    [
      'an unknown account counts as protected when protected-accounts is set',
      ['123456789012'],
      null,
      /could not be read.*unknown account counts as protected/
    ]
  ] as const)('%s', (_rule, accounts, identity, expected) => {
    const because = protection({ ...base, protectedAccounts: [...accounts] }, identity)
    if (expected instanceof RegExp) expect(because).toMatch(expected)
    else expect(because).toBe(expected)
  })

  it('a protected stage says so first, whatever the account', () => {
    expect(protection({ stage: 'prod', protectedStages: DEFAULTS, protectedAccounts: [] }, null)).toBe(
      'stage prod is protected (protected-stages)'
    )
  })
})

describe('makePolicy', () => {
  it('carries stage, strategy and allow-data-loss, and computes protection with its reason', () => {
    expect(
      makePolicy({ stage: 'prod-eu', strategy: 'auto', protectedStages: DEFAULTS, allowDataLoss: false })
    ).toEqual({
      stage: 'prod-eu',
      strategy: 'auto',
      protectedStage: true,
      protectedBecause: 'stage prod-eu is protected (protected-stages)',
      allowDataLoss: false
    })
    expect(
      makePolicy({ stage: 'pr-5', strategy: 'delete', protectedStages: DEFAULTS, allowDataLoss: true })
    ).toEqual({
      stage: 'pr-5',
      strategy: 'delete',
      protectedStage: false,
      allowDataLoss: true
    })
  })

  it('a protected account makes a PR stage behave as a protected one', () => {
    const inputs = {
      stage: 'pr-5',
      strategy: 'auto' as const,
      protectedStages: DEFAULTS,
      protectedAccounts: ['123456789012'],
      allowDataLoss: false
    }
    expect(makePolicy(inputs, account('123456789012'))).toMatchObject({
      protectedStage: true,
      protectedBecause: 'account 123456789012 is protected (protected-accounts)'
    })
    expect(makePolicy(inputs, null).protectedStage).toBe(true)
    expect(makePolicy(inputs, account('999999999999')).protectedStage).toBe(false)
  })
})
