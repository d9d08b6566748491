/**
 * Template vs live table → classified differences. Pure.
 *
 * The import writes the table's *live* configuration into the stack (CloudFormation does not check
 * an imported resource against the template), so each difference is judged by what the deploy's
 * UPDATE, going from live to template, would do with it:
 * - blocking: the property needs replacement, which CloudFormation refuses for a named table
 *   (TableName, KeySchema, key attribute types, LocalSecondaryIndexes);
 * - dangerous: DynamoDB or CloudFormation reject the update, so the deploy would fail and roll back
 *   (more than one GSI created/deleted, an existing GSI's keys or projection changed, a stream view
 *   type changed on an enabled stream, TTL moved to another attribute while enabled);
 * - converges: the UPDATE fixes it in place.
 */
import type {
  Difference,
  DifferenceSeverity,
  IndexConfig,
  KeyElement,
  ScalarAttrType,
  TableConfig
} from '../types.js'

const REPLACE = 'CloudFormation would have to replace the table, which it cannot do for a named table.'

type Types = Record<string, ScalarAttrType> | undefined

function keyText(key: KeyElement, types: Types, withRole = true): string {
  const type = types?.[key.name]
  const parts = [type, withRole ? key.type : undefined].filter(Boolean)
  return parts.length > 0 ? `${key.name} (${parts.join(', ')})` : key.name
}

/** `pk (S, HASH), sk (S, RANGE)` */
export function describeKeys(keys: KeyElement[], types: Types): string {
  return keys.length === 0 ? 'none' : keys.map(k => keyText(k, types)).join(', ')
}

function projectionText(p: IndexConfig['projection']): string {
  return p.nonKeyAttributes && p.nonKeyAttributes.length > 0
    ? `${p.type} + ${p.nonKeyAttributes.join(', ')}`
    : p.type
}

/** `byEmail: email (S, HASH); projection ALL` */
export function describeIndex(index: IndexConfig, types: Types): string {
  return `${index.name}: ${describeKeys(index.keys, types)}; projection ${projectionText(index.projection)}`
}

function throughputText(t: { read: number; write: number } | undefined): string {
  return t ? `${t.read} read / ${t.write} write` : 'none'
}

function onOff(enabled: boolean): string {
  return enabled ? 'enabled' : 'disabled'
}

function diff(
  property: string,
  severity: DifferenceSeverity,
  live: string,
  template: string,
  message: string
): Difference {
  return { property, severity, live, template, message }
}

/** Whether a property path (or its parent) was left unknown by template-config. */
function isUnknown(unknown: ReadonlySet<string>, path: string): boolean {
  if (unknown.has(path)) return true
  const dot = path.indexOf('.')
  return dot > 0 && unknown.has(path.slice(0, dot))
}

function role(type: KeyElement['type']): string {
  return type === 'HASH' ? 'partition key' : 'sort key'
}

function keyOf(keys: KeyElement[], type: KeyElement['type']): KeyElement | undefined {
  return keys.find(k => k.type === type)
}

function compareKeys(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const wantKeys = desired.keys
  if (!wantKeys || isUnknown(unknown, 'KeySchema')) return []
  const out: Difference[] = []
  const wantTypes = isUnknown(unknown, 'AttributeDefinitions') ? undefined : desired.attributeTypes
  const changed = (['HASH', 'RANGE'] as const).filter(
    t => keyOf(live.keys, t)?.name !== keyOf(wantKeys, t)?.name
  )
  if (changed.length > 0) {
    const side = (keys: KeyElement[], types: Types) =>
      changed
        .map(t => keyOf(keys, t))
        .map(k => (k ? keyText(k, types, false) : 'none'))
        .join(', ')
    const what =
      changed.length === 2
        ? 'Partition and sort keys differ'
        : `${capital(role(changed[0] ?? 'HASH'))} differs`
    out.push(
      diff(
        'KeySchema',
        'blocking',
        describeKeys(live.keys, live.attributeTypes),
        describeKeys(wantKeys, wantTypes),
        `${what}: live table has ${side(live.keys, live.attributeTypes)}, template wants ${side(wantKeys, wantTypes)}; ${REPLACE}`
      )
    )
  }
  // Same key attribute in the same role but another type.
  if (wantTypes) {
    for (const key of wantKeys) {
      if (keyOf(live.keys, key.type)?.name !== key.name) continue
      const was = live.attributeTypes[key.name]
      const want = wantTypes[key.name]
      if (was === undefined || want === undefined || was === want) continue
      out.push(
        diff(
          'AttributeDefinitions',
          'blocking',
          `${key.name} (${was})`,
          `${key.name} (${want})`,
          `Type of ${role(key.type)} ${key.name} differs: live table has ${was}, template wants ${want}; ${REPLACE}`
        )
      )
    }
  }
  return out
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function sameList(a: string[] | undefined, b: string[] | undefined): boolean {
  const x = a ?? []
  const y = b ?? []
  return x.length === y.length && x.every((v, i) => v === y[i])
}

/** Same keys (names, roles and, where both sides know them, types) and the same projection. */
function sameIndexShape(a: IndexConfig, aTypes: Types, b: IndexConfig, bTypes: Types): boolean {
  const keys = (['HASH', 'RANGE'] as const).every(t => {
    const x = keyOf(a.keys, t)
    const y = keyOf(b.keys, t)
    if (x?.name !== y?.name) return false
    if (!x) return true
    const tx = aTypes?.[x.name]
    const ty = bTypes?.[x.name]
    return tx === undefined || ty === undefined || tx === ty
  })
  return (
    keys &&
    a.projection.type === b.projection.type &&
    sameList(
      [...(a.projection.nonKeyAttributes ?? [])].sort(),
      [...(b.projection.nonKeyAttributes ?? [])].sort()
    )
  )
}

/** Index names the template declares but template-config could not read in full. */
function unknownIndexes(unknown: ReadonlySet<string>, prop: string): string[] {
  return [...unknown].filter(p => p.startsWith(`${prop}.`)).map(p => p.slice(prop.length + 1))
}

function compareLsis(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const prop = 'LocalSecondaryIndexes'
  if (!desired.lsis || isUnknown(unknown, prop)) return []
  const wantTypes = isUnknown(unknown, 'AttributeDefinitions') ? undefined : desired.attributeTypes
  const opaque = new Set(unknownIndexes(unknown, prop))
  const out: Difference[] = []
  const onlyInTemplate = (name: string, shown: string): Difference =>
    diff(
      prop,
      'blocking',
      'none',
      shown,
      `Local secondary index ${name} is only in the template; local indexes can only be created with the table, so ${REPLACE}`
    )
  for (const want of desired.lsis) {
    const have = live.lsis.find(i => i.name === want.name)
    if (!have) {
      out.push(onlyInTemplate(want.name, describeIndex(want, wantTypes)))
    } else if (!sameIndexShape(have, live.attributeTypes, want, wantTypes)) {
      out.push(
        diff(
          prop,
          'blocking',
          describeIndex(have, live.attributeTypes),
          describeIndex(want, wantTypes),
          `Local secondary index ${want.name} differs (live ${describeIndex(have, live.attributeTypes)}, template ${describeIndex(want, wantTypes)}); ${REPLACE}`
        )
      )
    }
  }
  for (const have of live.lsis) {
    if (desired.lsis.some(i => i.name === have.name) || opaque.has(have.name)) continue
    out.push(
      diff(
        prop,
        'blocking',
        describeIndex(have, live.attributeTypes),
        'none',
        `Local secondary index ${have.name} exists on the live table but not in the template; local indexes can only be removed with the table, so ${REPLACE}`
      )
    )
  }
  for (const name of opaque)
    if (!live.lsis.some(i => i.name === name)) out.push(onlyInTemplate(name, `${name} (not fully known)`))
  return out
}

function compareGsis(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const prop = 'GlobalSecondaryIndexes'
  if (!desired.gsis || isUnknown(unknown, prop)) return []
  const wantTypes = isUnknown(unknown, 'AttributeDefinitions') ? undefined : desired.attributeTypes
  const opaque = unknownIndexes(unknown, prop)
  const wanted = new Set([...desired.gsis.map(i => i.name), ...opaque])
  const liveNames = new Set(live.gsis.map(i => i.name))

  const added = [...wanted].filter(n => !liveNames.has(n)).sort()
  const removed = live.gsis.filter(i => !wanted.has(i.name))
  // CloudFormation (like UpdateTable) creates or deletes only one GSI per update.
  const tooMany = added.length + removed.length > 1
  const countNote = tooMany
    ? ` CloudFormation can create or delete only one global secondary index per update, and this deploy would need ${added.length + removed.length} (create ${added.join(', ') || 'none'}; delete ${removed.map(i => i.name).join(', ') || 'none'}), so it would fail; add or remove them one deploy at a time.`
    : ''
  const out: Difference[] = []

  for (const name of added) {
    const want = desired.gsis.find(i => i.name === name)
    const text = want ? describeIndex(want, wantTypes) : `${name} (not fully known)`
    out.push(
      tooMany
        ? diff(
            prop,
            'dangerous',
            'none',
            text,
            `Global secondary index ${name} is only in the template.${countNote}`
          )
        : diff(
            prop,
            'converges',
            'none',
            text,
            `Global secondary index ${name} is only in the template; the deploy creates it in place.`
          )
    )
  }
  for (const have of removed) {
    const text = describeIndex(have, live.attributeTypes)
    out.push(
      tooMany
        ? diff(
            prop,
            'dangerous',
            text,
            'none',
            `Global secondary index ${have.name} exists only on the live table.${countNote}`
          )
        : diff(
            prop,
            'converges',
            text,
            'none',
            `Global secondary index ${have.name} exists only on the live table; the deploy deletes it in place.`
          )
    )
  }
  for (const want of desired.gsis) {
    const have = live.gsis.find(i => i.name === want.name)
    if (!have) continue
    if (!sameIndexShape(have, live.attributeTypes, want, wantTypes)) {
      const liveText = describeIndex(have, live.attributeTypes)
      const wantText = describeIndex(want, wantTypes)
      out.push(
        diff(
          prop,
          'dangerous',
          liveText,
          wantText,
          `Global secondary index ${want.name} differs (live ${liveText}, template ${wantText}); CloudFormation cannot change an existing index's keys or projection, so the deploy would fail: remove the index in one deploy and add it back in the next, or give the new index another name.`
        )
      )
    } else if (
      want.throughput &&
      live.billingMode === 'PROVISIONED' &&
      desired.billingMode === 'PROVISIONED' &&
      (have.throughput?.read !== want.throughput.read || have.throughput?.write !== want.throughput.write)
    ) {
      out.push(
        diff(
          prop,
          'converges',
          `${have.name}: ${throughputText(have.throughput)}`,
          `${want.name}: ${throughputText(want.throughput)}`,
          `Provisioned throughput of global secondary index ${want.name} differs (live ${throughputText(have.throughput)}, template ${throughputText(want.throughput)}); the deploy changes it in place.`
        )
      )
    }
  }
  return out
}

function sameKmsKey(liveKey: string | undefined, templateKey: string): boolean | null {
  // An alias (name or ARN) cannot be matched to a key without asking KMS: not compared.
  if (templateKey.startsWith('alias/') || templateKey.includes(':alias/')) return null
  if (liveKey === undefined) return null
  return templateKey.startsWith('arn:')
    ? liveKey === templateKey
    : liveKey.endsWith(`:key/${templateKey}`) || liveKey === templateKey
}

function sseText(sse: TableConfig['sse']): string {
  if (!sse.enabled) return 'AWS owned key'
  return sse.kmsKeyId ? `${sse.type ?? 'KMS'} (${sse.kmsKeyId})` : `${sse.type ?? 'KMS'}`
}

function compareSse(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const want = desired.sse
  if (!want || unknown.has('SSESpecification')) return []
  const have = live.sse
  let differs =
    have.enabled !== want.enabled || (want.enabled && (have.type ?? 'KMS') !== (want.type ?? 'KMS'))
  // Without a key id the template means the AWS managed key, which cannot be told apart from a
  // customer managed key without KMS calls: the key is compared only when the template names one.
  if (
    !differs &&
    want.enabled &&
    want.kmsKeyId !== undefined &&
    !unknown.has('SSESpecification.KMSMasterKeyId')
  ) {
    differs = sameKmsKey(have.kmsKeyId, want.kmsKeyId) === false
  }
  if (!differs) return []
  return [
    diff(
      'SSESpecification',
      'converges',
      sseText(have),
      sseText(want),
      `Encryption differs: live table uses ${sseText(have)}, template wants ${sseText(want)}; the deploy changes it in place.`
    )
  ]
}

function streamText(s: TableConfig['stream']): string {
  return s.enabled ? (s.viewType ?? 'enabled') : 'disabled'
}

function compareStream(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const want = desired.stream
  if (!want || unknown.has('StreamSpecification')) return []
  const have = live.stream
  const liveText = streamText(have)
  const wantText = streamText(want)
  // Values, not flags, are compared: the same view type on both sides is no difference (this action's
  // import records the live stream in the stack, so the deploy after it has nothing to change).
  if (have.enabled === want.enabled && (!have.enabled || have.viewType === want.viewType)) return []
  if (have.enabled && want.enabled) {
    return [
      diff(
        'StreamSpecification',
        'dangerous',
        liveText,
        wantText,
        `Stream view type differs: live table streams ${liveText}, template wants ${wantText}; DynamoDB cannot change the view type of an enabled stream ("Table already has an enabled stream"), so the deploy would fail: disable the stream by hand first (consumers miss changes meanwhile) or keep ${liveText} in the template.`
      )
    ]
  }
  return [
    diff(
      'StreamSpecification',
      'converges',
      liveText,
      wantText,
      `Stream differs: live table has it ${onOff(have.enabled)}${have.enabled ? ` (${liveText})` : ''}, template wants it ${onOff(want.enabled)}${want.enabled ? ` (${wantText})` : ''}; the deploy changes it in place.`
    )
  ]
}

function ttlText(t: TableConfig['ttl']): string {
  return t.enabled ? `enabled on ${t.attributeName ?? '?'}` : 'disabled'
}

function compareTtl(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const want = desired.ttl
  if (!want || unknown.has('TimeToLiveSpecification')) return []
  const have = live.ttl
  if (have.enabled === want.enabled && (!have.enabled || have.attributeName === want.attributeName)) return []
  const liveText = ttlText(have)
  const wantText = ttlText(want)
  if (have.enabled && want.enabled) {
    return [
      diff(
        'TimeToLiveSpecification',
        'dangerous',
        liveText,
        wantText,
        `TTL attribute differs: live table expires items on ${have.attributeName ?? '?'}, template wants ${want.attributeName ?? '?'}; DynamoDB cannot move TTL to another attribute while it is enabled, so the deploy would fail: disable TTL in one deploy and enable it on the new attribute in a later one (at least an hour apart).`
      )
    ]
  }
  return [
    diff(
      'TimeToLiveSpecification',
      'converges',
      liveText,
      wantText,
      `TTL differs: live table has it ${liveText}, template wants it ${wantText}; the deploy changes it in place.`
    )
  ]
}

function compareTags(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  const want = desired.tags
  if (!want || unknown.has('Tags')) return []
  const user = (tags: Record<string, string>) =>
    Object.keys(tags).filter(k => !k.startsWith('aws:') && !unknown.has(`Tags.${k}`))
  const keys = [...new Set([...user(live.tags), ...user(want)])].sort()
  const changed = keys.filter(k => live.tags[k] !== want[k])
  if (changed.length === 0) return []
  const text = (tags: Record<string, string>) =>
    changed.map(k => (tags[k] === undefined ? `${k} (none)` : `${k}=${tags[k]}`)).join(', ')
  return [
    diff(
      'Tags',
      'converges',
      text(live.tags),
      text(want),
      `Tags differ (${changed.join(', ')}): live table has ${text(live.tags)}, template wants ${text(want)}; the deploy changes them in place.`
    )
  ]
}

/** One-value properties: which field, its CloudFormation name, how to say it, what a change means. */
interface ScalarRule {
  property: string
  severity: DifferenceSeverity
  /** The text of the field's value, or null when the field is absent from `desired` (not compared). */
  value(config: Partial<TableConfig>): string | null
  /** Also compared only when this holds (e.g. throughput of provisioned tables). */
  applies?(desired: Partial<TableConfig>, live: TableConfig): boolean
  sentence(live: string, wanted: string): string
}

const IN_PLACE = 'the deploy changes it in place.'
const onOffOf = (v: boolean | undefined): string | null => (v === undefined ? null : onOff(v))

const SCALAR_RULES: ScalarRule[] = [
  {
    property: 'TableName',
    severity: 'blocking',
    value: c => c.tableName ?? null,
    sentence: (l, w) => `Table name differs: live table is ${l}, template wants ${w}; ${REPLACE}`
  },
  {
    property: 'BillingMode',
    severity: 'converges',
    value: c => c.billingMode ?? null,
    sentence: (l, w) =>
      `Billing mode differs: live table is ${l}, template wants ${w}; the deploy switches it in place.`
  },
  {
    property: 'ProvisionedThroughput',
    severity: 'converges',
    value: c => (c.throughput ? throughputText(c.throughput) : null),
    applies: (d, l) => d.billingMode === 'PROVISIONED' && l.billingMode === 'PROVISIONED',
    sentence: (l, w) =>
      `Provisioned throughput differs: live table has ${l}, template wants ${w}; ${IN_PLACE}`
  },
  {
    property: 'PointInTimeRecoverySpecification',
    severity: 'converges',
    value: c => onOffOf(c.pitr),
    sentence: (l, w) =>
      `Point-in-time recovery differs: live table has it ${l}, template wants it ${w}; ${IN_PLACE}`
  },
  {
    property: 'DeletionProtectionEnabled',
    severity: 'converges',
    value: c => onOffOf(c.deletionProtection),
    sentence: (l, w) =>
      `Deletion protection differs: live table has it ${l}, template wants it ${w}; ${IN_PLACE}`
  },
  {
    property: 'TableClass',
    severity: 'converges',
    value: c => c.tableClass ?? null,
    sentence: (l, w) => `Table class differs: live table is ${l}, template wants ${w}; ${IN_PLACE}`
  }
]

function compareScalars(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): Difference[] {
  return SCALAR_RULES.flatMap(rule => {
    const wanted = rule.value(desired)
    if (wanted === null || unknown.has(rule.property)) return []
    if (rule.applies && !rule.applies(desired, live)) return []
    const actual = rule.value(live) ?? throughputText(undefined)
    return actual === wanted
      ? []
      : [diff(rule.property, rule.severity, actual, wanted, rule.sentence(actual, wanted))]
  })
}

const SEVERITY_ORDER: Record<DifferenceSeverity, number> = { blocking: 0, dangerous: 1, converges: 2 }

/** Blocking first, then dangerous, then converging; by property, then by message. */
export function sortDifferences(diffs: Difference[]): Difference[] {
  return [...diffs].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.property < b.property ? -1 : a.property > b.property ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  )
}

/**
 * Differences between the template's wish (from templateTableConfig) and the live table. Fields absent
 * from `desired`, and property paths listed in `unknown`, are not compared.
 */
export function compareTable(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: string[] = []
): Difference[] {
  const skip = new Set(unknown)
  return sortDifferences([
    ...compareScalars(desired, live, skip),
    ...compareKeys(desired, live, skip),
    ...compareLsis(desired, live, skip),
    ...compareGsis(desired, live, skip),
    ...compareSse(desired, live, skip),
    ...compareStream(desired, live, skip),
    ...compareTtl(desired, live, skip),
    ...compareTags(desired, live, skip)
  ])
}

// ───────────────────────────── a table created anew ─────────────────────────────

/** What each property is called in the sentences about a re-created table. */
const LABEL: Record<string, string> = {
  TableName: 'Table name',
  KeySchema: 'Keys',
  LocalSecondaryIndexes: 'Local secondary indexes',
  GlobalSecondaryIndexes: 'Global secondary indexes',
  SSESpecification: 'Encryption',
  StreamSpecification: 'Stream',
  TimeToLiveSpecification: 'TTL',
  Tags: 'Tags',
  BillingMode: 'Billing mode',
  ProvisionedThroughput: 'Provisioned throughput',
  PointInTimeRecoverySpecification: 'Point-in-time recovery',
  DeletionProtectionEnabled: 'Deletion protection',
  TableClass: 'Table class'
}

/** An attribute that is a key (of the table or an index) on both sides, with another type. */
interface TypeConflict {
  name: string
  live: ScalarAttrType
  template: ScalarAttrType
  /**
   * No live item can be written into the template's table: the attribute is a key of the live table
   * (every item carries it with the live type) or of the template's table (every item must carry it
   * with the template's type, and the items that carry it have the live type).
   */
  certain: boolean
}

function keyTypeConflicts(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: ReadonlySet<string>
): TypeConflict[] {
  if (!desired.attributeTypes || isUnknown(unknown, 'AttributeDefinitions')) return []
  const templateKeys = isUnknown(unknown, 'KeySchema') ? [] : (desired.keys ?? [])
  return Object.entries(desired.attributeTypes)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([name, want]): TypeConflict[] => {
      const was = live.attributeTypes[name]
      if (was === undefined || was === want) return []
      const certain = live.keys.some(k => k.name === name) || templateKeys.some(k => k.name === name)
      return [{ name, live: was, template: want, certain }]
    })
}

function conflictDifference(c: TypeConflict, restore: boolean): Difference {
  const live = `${c.name} (${c.live})`
  const template = `${c.name} (${c.template})`
  if (!restore) {
    return diff(
      'AttributeDefinitions',
      'converges',
      live,
      template,
      `Key attribute ${c.name} is ${c.live} in the live table and ${c.template} in the template; the deploy creates the table anew with ${c.template}.`
    )
  }
  if (c.certain) {
    return diff(
      'AttributeDefinitions',
      'blocking',
      live,
      template,
      `Key attribute ${c.name} is ${c.live} in the live table and ${c.template} in the template: no live item holds ${c.name} as ${c.template}, so no item could be written into the table the deploy creates and the restore would fail. Keep AttributeType ${c.live} for ${c.name} in the template, or convert the items by hand (copy them into a table of another name, writing ${c.name} as ${c.template}).`
    )
  }
  return diff(
    'AttributeDefinitions',
    'dangerous',
    live,
    template,
    `Index key attribute ${c.name} is ${c.live} in the live table and ${c.template} in the template: any item that carries ${c.name} (as ${c.live}) cannot be written into the table the deploy creates, and the restore stops at the first one. Keep AttributeType ${c.live} for ${c.name} in the template, or remove ${c.name} from those items first.`
  )
}

/** How an in-place difference reads when the deploy creates the table anew from the template. */
function recreatedWording(d: Difference, restore: boolean): Difference {
  const label = LABEL[d.property] ?? d.property
  const keys =
    d.property === 'KeySchema' && restore
      ? " Every item must carry the template's key attributes with their types to be restored: the export is checked against them before the live table is deleted."
      : ''
  return diff(
    d.property,
    'converges',
    d.live,
    d.template,
    `${label} differ${label.endsWith('s') ? '' : 's'} (live ${d.live}, template ${d.template}): the deploy creates the table anew with the template's setting.${keys}`
  )
}

function streamOnRestore(want: TableConfig['stream'], live: TableConfig): Difference {
  const view = streamText(want)
  return diff(
    'StreamSpecification',
    'dangerous',
    streamText(live.stream),
    view,
    `The template enables a stream (${view}) on the table the deploy creates: the restore writes every item into it again, so each one reaches the stream's consumers (Lambda triggers, Pipes) as a new INSERT, and whatever they do for a new item (send an email, call a webhook) happens again for every restored item. Pause or detach the consumers until the restore has finished.`
  )
}

/**
 * Differences between the template's wish and the live table when the table is deleted and the
 * deploy creates it anew from the template: everything converges, except, when its items are then
 * restored into it (`restore`), what makes the restore fail (`blocking`: a key attribute's type
 * changes) or surprise (`dangerous`: a stream re-delivers every restored item).
 */
export function compareRecreated(
  desired: Partial<TableConfig>,
  live: TableConfig,
  unknown: string[] = [],
  restore: boolean
): Difference[] {
  const skip = new Set(unknown)
  const stream =
    restore && desired.stream?.enabled === true && !skip.has('StreamSpecification') ? desired.stream : null
  const out = compareTable(desired, live, unknown)
    // Key types are restated from every conflict below; the stream on restore too.
    .filter(d => d.property !== 'AttributeDefinitions' && !(stream && d.property === 'StreamSpecification'))
    .map(d => recreatedWording(d, restore))
  out.push(...keyTypeConflicts(desired, live, skip).map(c => conflictDifference(c, restore)))
  if (stream) out.push(streamOnRestore(stream, live))
  return sortDifferences(out)
}
