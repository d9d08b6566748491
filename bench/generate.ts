/**
 * Bench data: deterministic mixed-type items of about 400 bytes (DynamoDB size), key pk=S, sk=S.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'

const STATUSES = ['NEW', 'PAID', 'SHIPPED', 'DELIVERED', 'RETURNED']
const WORDS = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliet',
  'kilo',
  'lima'
]

export function benchItem(i: number): Record<string, AttributeValue> {
  const payload = new Uint8Array(48)
  for (let j = 0; j < payload.length; j++) payload[j] = (i * 31 + j * 7) & 255
  let note = ''
  for (let j = 0; note.length < 120; j++) note += `${WORDS[(i + j * 5) % WORDS.length]} `
  return {
    pk: { S: `tenant#${String(i % 1000).padStart(4, '0')}` },
    sk: { S: `order#${String(i).padStart(9, '0')}` },
    amount: { N: `${Math.floor(i / 7)}.${String(i % 100).padStart(2, '0')}` },
    qty: { N: String((i % 17) + 1) },
    status: { S: STATUSES[i % STATUSES.length] as string },
    tags: { SS: [`tag${i % 11}`, `tag${(i % 11) + 11}`, `region-${i % 4}`] },
    express: { BOOL: i % 3 === 0 },
    discount: i % 5 === 0 ? { NULL: true } : { N: String(i % 30) },
    payload: { B: payload },
    note: { S: note.trim() },
    meta: {
      M: {
        created: { N: String(1_700_000_000 + i) },
        source: { S: i % 2 === 0 ? 'web' : 'app' },
        lines: { L: [{ N: String(i % 9) }, { S: 'sku-' + String(i % 997) }] }
      }
    }
  }
}

/** Approximate DynamoDB item size (attribute names + values; binary counted as bytes). */
export function itemSize(item: Record<string, AttributeValue>): number {
  let n = 0
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S)
    if (v.N !== undefined) return v.N.length
    if (v.B !== undefined) return v.B.length
    if (v.SS !== undefined) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0)
    if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + value(x), 0)
    if (v.M !== undefined)
      return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + k.length + value(x), 0)
    return 1
  }
  for (const [k, v] of Object.entries(item)) n += k.length + value(v)
  return n
}
