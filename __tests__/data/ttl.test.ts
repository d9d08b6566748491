import { describe, expect, it } from '@jest/globals'
import { ContentDigest } from '../../src/data/digest.js'
import { PageItems, topLevelMember } from '../../src/data/json-scan.js'
import {
  ExpiringItems,
  restoreTtlAttribute,
  ttlWindow,
  windowHolds,
  TTL_WINDOW_SECONDS
} from '../../src/data/ttl.js'

const NOW = 1_700_000_000
const window = ttlWindow('exp', NOW * 1000)
const page = (texts: string[]) => PageItems.fromTexts(texts)

describe('topLevelMember', () => {
  const name = Buffer.from('"exp"')
  it.each<[string, string, string | null]>([
    ['a top-level member', '{"pk":{"S":"a"},"exp":{"N":"5"}}', '{"N":"5"}'],
    ['a nested member of the same name is not matched', '{"m":{"M":{"exp":{"N":"5"}}}}', null],
    ['a string value spelling the name is not matched', '{"pk":{"S":"\\"exp\\":"}}', null],
    ['a longer name is not matched', '{"expires":{"N":"5"}}', null],
    ['a value with brackets in strings', '{"exp":{"S":"}]{["},"x":{"N":"1"}}', '{"S":"}]{["}']
  ])('%s', (_rule, text, value) => {
    const buf = Buffer.from(text)
    const at = topLevelMember(buf, 0, buf.length, name)
    expect(at === null ? null : buf.toString('utf8', at[0], at[1])).toBe(value)
  })
})

describe('ExpiringItems: items whose TTL is at or before the cutoff are set apart', () => {
  it('splits a page by the window, counting those already expired', () => {
    const texts = [
      `{"pk":{"S":"past"},"exp":{"N":"${NOW - 10}"}}`,
      `{"pk":{"S":"soon"},"exp":{"N":"${NOW + 60}"}}`,
      `{"pk":{"S":"later"},"exp":{"N":"${NOW + TTL_WINDOW_SECONDS + 1}"}}`,
      '{"pk":{"S":"none"}}',
      '{"pk":{"S":"string ttl is ignored by DynamoDB"},"exp":{"S":"1"}}'
    ]
    const items = page(texts)
    const all = new ContentDigest()
    const expiring = new ExpiringItems(window)
    for (let i = 0; i < items.length; i++) {
      all.addPageItem(items, i)
      expiring.addPageItem(items, i)
    }
    const split = expiring.split(all)
    expect([split.expiring, split.expired, split.alive.itemCount]).toEqual([2, 1, 3])
    // The alive part is the digest of exactly the other items.
    const rest = new ContentDigest()
    for (const t of [texts[2], texts[3], texts[4]]) rest.addText(t as string)
    expect(split.alive.contentDigest).toBe(rest.hex())
  })

  it('the window holds until the cutoff', () => {
    expect(windowHolds(window, (NOW + TTL_WINDOW_SECONDS) * 1000)).toBe(true)
    expect(windowHolds(window, (NOW + TTL_WINDOW_SECONDS + 1) * 1000)).toBe(false)
  })
})

describe("restoreTtlAttribute: what a restore's window sets apart by", () => {
  it.each<[string, { status: string; attributeName: string | null } | null, string | null, string | null]>([
    [
      "the target's TTL, which deletes restored items",
      { status: 'ENABLED', attributeName: 'exp' },
      'old',
      'exp'
    ],
    ['while it is being turned on', { status: 'ENABLING', attributeName: 'exp' }, null, 'exp'],
    [
      'while it is being turned off (it may still delete)',
      { status: 'DISABLING', attributeName: 'exp' },
      null,
      'exp'
    ],
    [
      "target TTL off: the backup's table's (it may be turned on)",
      { status: 'DISABLED', attributeName: null },
      'old',
      'old'
    ],
    ["target unknown: the backup's table's", null, 'old', 'old'],
    ['TTL nowhere: no window', { status: 'DISABLED', attributeName: null }, null, null],
    ['target unknown, backup without TTL: no window', null, null, null]
  ])('%s', (_rule, target, backup, want) => {
    expect(restoreTtlAttribute(target, backup)).toBe(want)
  })
})
