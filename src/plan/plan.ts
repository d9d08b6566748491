/**
 * Findings + policy → one decision per table. Pure: no I/O, same input, same plan.
 *
 * The `auto` tree is the README's decision table ("How it decides") and errs towards keeping data:
 *
 *   exists? ── no ─→ none (the deploy creates it)
 *     │ yes
 *   owner? ── the expected stack ─→ none;  another live stack ─→ blocked (never touched)
 *     │ orphan (retained / unmanaged / unknown)
 *   stack busy (*_IN_PROGRESS)? ── yes ─→ blocked (wait)
 *     │
 *   holds data? ── no (Scan found nothing) ─→ protected stage? ── no ─→ delete
 *     │ yes / could not tell                      │ yes
 *     │                                           └─→ import if possible, else blocked
 *   importable? ── yes ─→ keys and LSIs match? ── yes ─→ import (warn about dangerous differences)
 *     │ no                       │ no
 *     └──────────┬───────────────┘
 *   protected stage? ── yes ─→ blocked (with what to change)
 *     │ no
 *   backup-restore
 *
 * `allow-data-loss` only unlocks the explicit `delete` strategy; `auto` never gives data up.
 */
import { protectedReason } from './policy.js'
import { TEMPLATE_BODY_LIMIT_BYTES, TEMPLATE_URL_LIMIT_BYTES } from '../aws/cloudformation-import.js'
import { chooseCopyPath, serverSideBlockers } from './copy-path.js'
import { isBusy, isNewStack, STUCK, stackRefusal } from './stack-state.js'
import {
  replicaNote,
  replicaOrphanBlocker,
  replicationDeleteBlocker,
  replicationImportBlocker,
  type Blocker
} from './global-table.js'
import type {
  CopyPath,
  Decision,
  ServerSideResume,
  DecisionStep,
  Difference,
  Finding,
  Plan,
  PlanEntry,
  Policy,
  StackState,
  Strategy,
  UnresolvedTable
} from '../types.js'

type ActingStrategy = Exclude<Strategy, 'report'>

// ───────────────────────────── stack states ─────────────────────────────

function stackNote(stack: StackState): string | null {
  if (!stack.exists || stack.status === undefined) return null
  const why = stack.statusReason ? ` (${stack.statusReason})` : ''
  if (isBusy(stack.status)) {
    return `Stack ${stack.name} is ${stack.status}${why}: another operation is running and any deploy fails until it ends; wait for it, then run again.`
  }
  if (stack.status === 'REVIEW_IN_PROGRESS') {
    return `Stack ${stack.name} is REVIEW_IN_PROGRESS: it exists but has no resources yet (a change set was created and never executed).`
  }
  const stuck = STUCK[stack.status]
  return stuck ? `Stack ${stack.name} is ${stack.status}${why}: ${stuck}.` : null
}

/** The expected stack's state when it blocks deploys for good (not merely busy), else null. */
function stuckStack(f: Finding): StackState | null {
  const s = f.stack
  return s?.exists && s.status !== undefined && STUCK[s.status] !== undefined ? s : null
}

// ───────────────────────────── questions about a finding ─────────────────────────────

/** Why the table cannot be imported into its stack, or null when it can. */
function importBlocker(f: Finding): Blocker | null {
  const spec = f.spec
  if (spec.properties === null || spec.stack === null || spec.logicalId === null) {
    return {
      reason:
        'no template declares it (only the `tables` input names it), so there is no stack resource to import it into',
      hint: templateHint(f)
    }
  }
  if (spec.nestedPath.length > 0) {
    return {
      reason: `it is declared in the nested stack ${spec.nestedPath.join(' → ')}, and importing into a nested stack is not supported`,
      hint: 'Import it into the nested stack by hand, or declare the table in the top-level stack.'
    }
  }
  const replication = replicationImportBlocker(f)
  if (replication) return replication
  const stuck = stuckStack(f)
  if (stuck) {
    return {
      reason: `stack ${stuck.name} is ${stuck.status ?? 'unusable'}`,
      hint: `Stack ${stuck.name}: ${STUCK[stuck.status ?? ''] ?? 'fix it first'}.`
    }
  }
  // Any other state the import itself would refuse (the same rule, so plan and executor agree).
  const refusal = f.stack && !isBusy(f.stack.status) ? stackRefusal(f.stack, f.stack.name) : null
  if (refusal) return { reason: refusal, hint: 'Repair the stack, then run again.' }
  return notActive(f)
}

/**
 * Why the import template of the table's stack cannot reach CloudFormation, or null. An existing stack's
 * import template is its deployed template plus the tables, about the size of its synthesized one: over
 * 51,200 bytes it must go through S3 (TemplateURL), to `s3-bucket` when it is in the table's region, else
 * to the CDK bootstrap assets bucket the cloud assembly names. A new stack's holds only the tables.
 * The import checks the exact size again.
 */
function templateStoreBlocker(f: Finding, policy: Policy): Blocker | null {
  const bytes = f.spec.stackTemplateBytes
  if (bytes === undefined || bytes <= TEMPLATE_BODY_LIMIT_BYTES) return null
  if (f.stack === null || isNewStack(f.stack)) return null
  const stack = f.spec.stack ?? 'its stack'
  if (bytes > TEMPLATE_URL_LIMIT_BYTES) {
    return {
      reason: `the template of stack ${stack} is ${bytes} bytes, over the ${TEMPLATE_URL_LIMIT_BYTES} CloudFormation takes even through TemplateURL`,
      hint: 'Split the stack, or import the table by hand.'
    }
  }
  const s3Bucket = policy.templateBucket
  if ((s3Bucket && s3Bucket.region === f.region) || f.spec.assetsBucket) return null
  const elsewhere = s3Bucket
    ? ` (s3-bucket ${s3Bucket.name} is in ${s3Bucket.region}; CloudFormation reads the template of a stack in ${f.region} from a bucket in ${f.region})`
    : ''
  return {
    reason: `the template of stack ${stack} is ${bytes} bytes, over the ${TEMPLATE_BODY_LIMIT_BYTES} a TemplateBody may hold, and no S3 bucket in ${f.region} is known to pass the import template as TemplateURL${elsewhere}`,
    hint: `Set the s3-bucket input to a bucket in ${f.region}, or synthesize with the CDK default synthesizer, whose cloud assembly names the bootstrap assets bucket of each stack (the deploy of a template this large needs that bucket too).`
  }
}

/** A table that is not ACTIVE (UPDATING, ARCHIVED, INACCESSIBLE_ENCRYPTION_CREDENTIALS…) can be neither imported nor copied now. */
function notActive(f: Finding): Blocker | null {
  const status = f.live?.status
  if (status === undefined || status === 'ACTIVE') return null
  return {
    reason: `the table is ${status}, not ACTIVE`,
    hint: 'Wait until DescribeTable shows it ACTIVE (or repair it), then run again.'
  }
}

/**
 * A plain delete (no export to restore from) of a table with deletion protection: the owner asked
 * for that table to be kept, so only strategy delete with allow-data-loss turns protection off.
 * (backup-restore turns it off too, but only after its backup is verified.)
 */
function plainDeleteBlocker(f: Finding, policy: Policy): Blocker | null {
  const blocker = deleteBlocker(f, policy)
  if (blocker) return blocker
  if (f.live?.deletionProtection && !(policy.strategy === 'delete' && policy.allowDataLoss)) {
    return {
      reason: 'deletion protection is on, and only strategy delete with allow-data-loss: true turns it off',
      hint: 'Use strategy import or backup-restore, or strategy delete with allow-data-loss: true if the table may go.'
    }
  }
  return null
}

/** Why the table may not be deleted (by `delete` or `backup-restore`, either copy path), or null when it may. */
function deleteBlocker(f: Finding, policy: Policy): Blocker | null {
  const blocker = baseDeleteBlocker(f, policy) ?? notActive(f) ?? owedRestoreBlocker(f)
  if (blocker || f.owedRestoreUnknown === undefined) return blocker
  // The table might be the one an unfinished server-side restore's import created: a backup of it
  // would be newer than the copy that restore owes, and the owed copy would no longer be found.
  return {
    reason: `whether it is the table an unfinished server-side restore created could not be determined (${f.owedRestoreUnknown})`,
    hint: 'Grant the read permissions named there (s3:GetObject on the backups, dynamodb:DescribeImport, dynamodb:ListImports) and run again.'
  }
}

/**
 * The one rule for a table that is owed a restore it was never given (Finding.owedRestore: the live
 * instance is not the one the owed set was taken of, and no restore is recorded), whatever the
 * strategy: it is never deleted, nor backed up and deleted. Its delete would let the owed set be
 * written into the next instance, or be taken as superseded; a backup of it would be a newer set
 * and hide the owed one. A server-side restore's table not known to be its import's is this case
 * too (resumeServerSide). The executor asks AWS again before any delete (execute/safety.ts).
 */
function owedRestoreBlocker(f: Finding): Blocker | null {
  const owed = f.owedRestore
  const other = f.serverSideResume?.live === 'other' ? f.serverSideResume : undefined
  if (!f.exists || (owed === undefined && other === undefined)) return null
  const backup = owed?.backup ?? other?.manifestUri ?? ''
  const taken = owed ? ` (taken ${owed.takenAt})` : ''
  const remove =
    owed?.source === 'aws-backup'
      ? `aws dynamodb delete-backup --backup-arn ${backup}`
      : `aws s3 rm --recursive ${backup.replace(/[^/]*$/, '')}, and the on-demand backup of the same moment if there is one`
  return {
    reason: `it is owed the restore of ${backup}${taken}, which was never loaded into it: the action never deletes or backs up a table that is owed a restore (the owed copy would be hidden by a newer one, or written into the next table)`,
    hint: `Load that backup into it first: run the action with phase: restore (it loads only into an empty table: move any items away first), then run again. If that data is not wanted, delete the backup (${remove}) and run again.`
  }
}

/** "pass X as `template`": which template the user should point the action at. */
function templateHint(f: Finding): string {
  const nd = f.spec.notDeclared
  if (!nd)
    return 'Point the `template` input at the cloud assembly (cdk.out) or template that declares the table.'
  return nd.exists
    ? `The \`template\` input (${nd.template}) does not declare it: point \`template\` at the cloud assembly (cdk.out) or template that declares ${f.tableName}, or leave it out of \`tables\`.`
    : `No template exists at ${nd.template} (the \`template\` input): run \`cdk synth\` before this step so that cdk.out exists, or point \`template\` at the template that declares ${f.tableName}.`
}

function baseDeleteBlocker(f: Finding, policy: Policy): Blocker | null {
  if (policy.protectedStage) {
    return {
      reason: `${protectedReason(policy)}, where the action never deletes a table`,
      hint: 'Use strategy import, change the template to match the live table, or migrate by hand.'
    }
  }
  // Without a template nothing says the deploy re-creates the table, or with which keys: its data stays.
  if (f.spec.properties === null && f.hasData !== false) {
    return {
      reason: `no template declares it (only the \`tables\` input names it), so nothing says the deploy re-creates it or with which keys, and a table with data is never deleted on the \`tables\` list alone`,
      hint: templateHint(f)
    }
  }
  if (f.owner === null || f.owner === 'unknown') {
    return {
      reason: 'its owner could not be determined, so it might belong to another stack',
      hint: 'Check the problems listed for this table (e.g. missing cloudformation:DescribeStackResources permission) and run again.'
    }
  }
  const replicated = replicationDeleteBlocker(f)
  if (replicated) return replicated
  const stuck = stuckStack(f)
  // ROLLBACK_COMPLETE still lets a deploy go on (after the stack is deleted), so the table can be
  // re-created; the other stuck states stop every deploy, and the data would sit in the backup
  // until someone repairs the stack.
  if (stuck && stuck.status !== 'ROLLBACK_COMPLETE') {
    return {
      reason: `stack ${stuck.name} is ${stuck.status ?? 'unusable'}, so no deploy can re-create the table until the stack is repaired`,
      hint: `Stack ${stuck.name}: ${STUCK[stuck.status ?? ''] ?? 'fix it first'}.`
    }
  }
  return null
}

function ownerPhrase(f: Finding): string {
  switch (f.owner) {
    case 'retained':
      return f.retainedFrom
        ? `was left behind by stack ${f.retainedFrom} (retained on delete or by a rolled-back create)`
        : 'was left behind by a deleted stack'
    case 'unmanaged':
      return 'was created outside CloudFormation'
    case null:
    case 'unknown':
      return 'exists, but its owner could not be determined'
    default:
      return 'exists'
  }
}

function ownerAnswer(f: Finding): string {
  if (f.owner === 'stack') return `expected stack ${f.spec.stack ?? ''}`.trim()
  if (f.owner === null || f.owner === 'unknown') return 'unknown'
  const other = otherStack(f)
  if (other !== null) return `other stack ${other}`
  if (f.owner === 'retained')
    return f.retainedFrom ? `none (retained from ${f.retainedFrom})` : 'none (retained)'
  return 'none (unmanaged)'
}

function otherStack(f: Finding): string | null {
  return f.owner?.startsWith('other-stack:') ? f.owner.slice('other-stack:'.length) : null
}

function dataPhrase(hasData: boolean | null): string {
  if (hasData === true) return 'holds data'
  if (hasData === false) return 'is empty (a Scan found no item)'
  return 'could not be checked for data, so it is treated as holding data'
}

function dataAnswer(hasData: boolean | null): string {
  return hasData === true ? 'yes' : hasData === false ? 'no' : 'unknown (treated as yes)'
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no'
}

const bySeverity = (f: Finding, severity: Difference['severity']) =>
  f.differences.filter(d => d.severity === severity)

function keyDifferences(f: Finding): Difference[] {
  return bySeverity(f, 'blocking').filter(
    d => d.property === 'KeySchema' || d.property === 'AttributeDefinitions'
  )
}

/** "Sort key differs: …; …" sentences of the blocking differences, joined. */
function blockingText(f: Finding): string {
  return bySeverity(f, 'blocking')
    .map(d => d.message.replace(/\.$/, ''))
    .join('; ')
}

function liveKeysText(f: Finding): string {
  const d = bySeverity(f, 'blocking').find(x => x.property === 'KeySchema')
  return d ? d.live : 'its live keys and local indexes'
}

// ───────────────────────────── the walk ─────────────────────────────

/**
 * Which wording of the differences fits the decision: kept in place, re-created and restored (by
 * the runner after the deploy), re-created by ImportTable before the deploy, re-created empty.
 */
type Wording = 'in-place' | 'restored' | 'imported' | 'deleted'

function differencesIn(f: Finding, wording: Wording): Difference[] {
  if (wording === 'in-place' || f.recreated === undefined) return f.differences
  if (wording === 'imported') return f.recreated.restored.map(importedWording)
  return f.recreated[wording]
}

/**
 * A stream on the re-created table re-delivers restored items only when the runner writes them
 * after the deploy turned the stream on; ImportTable loads them before, so nothing is re-delivered.
 */
function importedWording(d: Difference): Difference {
  if (d.property !== 'StreamSpecification' || d.severity !== 'dangerous') return d
  return {
    ...d,
    severity: 'converges',
    message: `The template enables a stream (${d.template}): ImportTable loads the items into the new table before the deploy turns the stream on, so its consumers receive none of them again.`
  }
}

class Walk {
  readonly path: DecisionStep[] = []
  readonly reasons: string[] = []
  readonly table: string
  wording: Wording = 'in-place'
  copy: CopyPath | undefined
  /** The S3 copy whose restore this run records (PlanEntry.recordRestore). */
  recordRestore: string | undefined

  constructor(
    readonly f: Finding,
    readonly policy: Policy
  ) {
    this.table = f.tableName
  }

  ask(question: string, answer: string): void {
    this.path.push({ question, answer })
  }

  decide(decision: Decision, ...reasons: string[]): Decision {
    this.reasons.push(...reasons)
    return decision
  }

  get stackName(): string {
    return this.f.spec.stack ?? 'its stack'
  }

  // ── outcomes ──

  importIt(): Decision {
    const { f } = this
    const noStore = templateStoreBlocker(f, this.policy)
    this.ask('Can the import template reach CloudFormation?', yesNo(noStore === null))
    if (noStore) {
      return this.blocked(
        `Table ${this.table} would be imported into stack ${this.stackName}, but ${noStore.reason}. ${noStore.hint}`
      )
    }
    const reasons = [
      `Table ${this.table} ${ownerPhrase(f)} and ${dataPhrase(f.hasData)}: it is imported into stack ${this.stackName} as ${f.spec.logicalId ?? 'its resource'} with its live configuration; nothing is copied or deleted.`
    ]
    if (f.stack !== null && !f.stack.exists) {
      reasons.push(
        `Stack ${f.stack.name} does not exist yet: the import creates it holding only the imported tables, and the deploy adds the rest.`
      )
    }
    const converging = [...new Set(bySeverity(f, 'converges').map(d => d.property))]
    if (converging.length > 0) {
      reasons.push(`The deploy then brings it in line with the template in place: ${converging.join(', ')}.`)
    }
    // Importing is still the safest move with a dangerous difference: if the following deploy fails,
    // CloudFormation rolls the stack back and the imported table keeps its data. Re-creating the table
    // instead would put the data at risk to avoid a failure the user can fix in the template.
    for (const d of bySeverity(f, 'dangerous')) {
      reasons.push(
        `Warning: the deploy after the import will likely fail (${d.property}): ${d.message} If it does, CloudFormation rolls the stack back and the table keeps its data.`
      )
    }
    return this.decide('import', ...reasons)
  }

  /**
   * Backup, delete, deploy, restore. `why` completes "Table T … and …". Blocked instead when the plan
   * can already tell that no item could be restored into the table the template defines.
   */
  backupRestore(why: string): Decision {
    const { f, policy } = this
    this.wording = 'restored'
    // Only the re-created wording knows what makes a restore fail (the in-place one has its own blocking).
    const restored = f.recreated?.restored ?? []
    const fails = f.hasData === false ? [] : restored.filter(d => d.severity === 'blocking')
    this.ask('Can its items be restored into the table the template defines?', yesNo(fails.length === 0))
    if (fails.length > 0) {
      return this.blocked(
        `Table ${this.table} ${ownerPhrase(f)} and ${why}, so it would be re-created from the template, but its items could not be restored into that table: ${fails.map(d => d.message).join(' ')} Nothing is backed up or deleted.`
      )
    }
    if (f.hasData !== false && policy.awsBackup === false && policy.s3Bucket === false) {
      this.ask('Will a copy outside the runner exist (s3-bucket or aws-backup)?', 'no')
      return this.blocked(
        `Table ${this.table} ${ownerPhrase(f)} and ${why}, but it cannot be re-created here: its items would have no copy outside the runner (aws-backup is false and s3-bucket is not set), and the export on the runner's disk dies with the runner. Set s3-bucket (a verified copy in S3) or aws-backup: true (an on-demand backup), then run again.`
      )
    }
    const noStore = templateStoreBlocker(f, policy)
    const choice = chooseCopyPath(
      f,
      policy,
      noStore ? [`the new table could not be imported into its stack: ${noStore.reason}`] : []
    )
    this.ask('Which path do its items take?', 'blocked' in choice ? 'none: blocked' : choice.path)
    if ('blocked' in choice) {
      return this.blocked(`Table ${this.table} ${ownerPhrase(f)} and ${why}, but ${choice.blocked}`)
    }
    this.copy = choice.path
    const serverSide = choice.path === 'server-side'
    if (serverSide) this.wording = 'imported'
    const reasons = [
      serverSide
        ? `Table ${this.table} ${ownerPhrase(f)} and ${why}: it is copied to S3, deleted, created anew by ImportTable with the template's keys and imported into stack ${this.stackName}, all before the deploy.`
        : `Table ${this.table} ${ownerPhrase(f)} and ${why}: it is backed up, then deleted so the deploy can create it from the template, and its items are restored into the new table after the deploy (phase: restore).`,
      choice.reason
    ]
    if (f.live?.deletionProtection) {
      reasons.push(
        'Deletion protection is on: it is turned off only after the backup has completed, right before the delete.'
      )
    }
    const keys = keyDifferences(f)
    if (keys.length > 0) {
      reasons.push(
        `The key schema changes (${keys.map(d => `${d.live} → ${d.template}`).join('; ')}): every item must carry the template's key attributes with the template's types, or it cannot be written to the new table.`
      )
    }
    for (const d of differencesIn(f, this.wording).filter(x => x.severity === 'dangerous')) {
      reasons.push(`Warning (${d.property}): ${d.message}`)
    }
    return this.decide('backup-restore', ...reasons)
  }

  deleteIt(lead: string): Decision {
    this.wording = 'deleted'
    const reasons = [lead]
    if (this.f.live?.deletionProtection) {
      reasons.push(
        'Deletion protection is on: it is turned off right before the delete, because allow-data-loss is true.'
      )
    }
    return this.decide('delete', ...reasons)
  }

  blocked(...reasons: string[]): Decision {
    return this.decide('blocked', ...reasons)
  }

  // ── shared questions ──

  askImportable(): Blocker | null {
    const blocker = importBlocker(this.f)
    this.ask('Can it be imported?', blocker ? 'no' : 'yes')
    return blocker
  }

  askKeysMatch(): boolean {
    const match = bySeverity(this.f, 'blocking').length === 0
    this.ask('Do its keys and local indexes match the template?', yesNo(match))
    return match
  }

  askProtected(): boolean {
    const { policy } = this
    this.ask(
      `Is stage ${policy.stage} protected?`,
      policy.protectedStage ? `yes: ${protectedReason(policy)}` : 'no'
    )
    return policy.protectedStage
  }
}

function autoDecision(w: Walk): Decision {
  const { f, policy } = w
  w.ask('Does it hold data?', dataAnswer(f.hasData))

  if (f.hasData === false) {
    let notDeleted: string
    if (w.askProtected()) {
      notDeleted = `${protectedReason(policy)}, where the action never deletes a table, empty or not`
    } else {
      const cannotDelete = plainDeleteBlocker(f, policy)
      w.ask('May it be deleted?', yesNo(cannotDelete === null))
      if (!cannotDelete) {
        return w.deleteIt(
          `Table ${w.table} ${ownerPhrase(f)} and is empty (a Scan found no item): it is deleted, and the deploy creates it anew from the template.`
        )
      }
      notDeleted = cannotDelete.reason
    }
    // Empty on a protected stage (or not deletable): adopt it rather than delete it.
    // Not deleted because it is owed a restore: the way on is that restore (or giving it up).
    const owed = owedRestoreBlocker(f)
    const owedHint = owed && notDeleted === owed.reason ? owed.hint : null
    const blocker = w.askImportable()
    if (blocker) {
      return w.blocked(
        `Table ${w.table} is empty but is not deleted because ${notDeleted}, and it cannot be imported: ${blocker.reason}. ${owedHint ?? blocker.hint}`
      )
    }
    if (!w.askKeysMatch()) {
      return w.blocked(
        `Table ${w.table} is empty but is not deleted because ${notDeleted}, and it cannot be imported because it does not match the template: ${blockingText(f)}. ${owedHint ?? `Change the template to match the live table (${liveKeysText(f)}), or delete the empty table by hand.`}`
      )
    }
    const decision = w.importIt()
    w.reasons.push(`It is imported rather than deleted although it is empty, because ${notDeleted}.`)
    return decision
  }

  const blocker = w.askImportable()
  if (!blocker && w.askKeysMatch()) return w.importIt()

  const why = blocker
    ? `${dataPhrase(f.hasData)}, but it cannot be imported: ${blocker.reason}`
    : `${dataPhrase(f.hasData)}, but it does not match the template: ${blockingText(f)}`
  if (w.askProtected()) {
    const fix = blocker
      ? blocker.hint
      : `Change the template to match the live table (${liveKeysText(f)}), or migrate the data by hand.`
    return w.blocked(
      `Table ${w.table} ${ownerPhrase(f)} and ${why}. ${capitalize(protectedReason(policy))}, so the action does not delete or re-create it. ${fix}`
    )
  }
  const cannotDelete = deleteBlocker(f, policy)
  w.ask('May it be deleted?', yesNo(cannotDelete === null))
  if (cannotDelete) {
    return w.blocked(
      `Table ${w.table} ${ownerPhrase(f)} and ${why}; it cannot be re-created either: ${cannotDelete.reason}. ${cannotDelete.hint}`
    )
  }
  return w.backupRestore(
    blocker ? `cannot be imported (${blocker.reason})` : `does not match the template (${blockingText(f)})`
  )
}

function importDecision(w: Walk): Decision {
  const blocker = w.askImportable()
  if (blocker) return w.blocked(`Table ${w.table} cannot be imported: ${blocker.reason}. ${blocker.hint}`)
  if (!w.askKeysMatch()) {
    const keys = keyDifferences(w.f)
    const named =
      keys.length > 0
        ? ` (live ${keys.map(d => d.live).join('; ')}; template ${keys.map(d => d.template).join('; ')})`
        : ''
    return w.blocked(
      `Table ${w.table} cannot be imported: ${blockingText(w.f)}${named}. Change the template to match the live table, or use strategy backup-restore to re-create it with the template's keys.`
    )
  }
  return w.importIt()
}

function backupRestoreDecision(w: Walk): Decision {
  const blocker = deleteBlocker(w.f, w.policy)
  w.ask('May it be deleted?', yesNo(blocker === null))
  if (blocker)
    return w.blocked(
      `Strategy backup-restore cannot re-create table ${w.table}: ${blocker.reason}. ${blocker.hint}`
    )
  return w.backupRestore(dataPhrase(w.f.hasData))
}

function deleteDecision(w: Walk): Decision {
  const { f, policy } = w
  const blocker = plainDeleteBlocker(f, policy)
  w.ask('May it be deleted?', yesNo(blocker === null))
  if (blocker)
    return w.blocked(`Strategy delete cannot delete table ${w.table}: ${blocker.reason}. ${blocker.hint}`)
  w.ask('Does it hold data?', dataAnswer(f.hasData))
  if (f.hasData === false) {
    return w.deleteIt(
      `Table ${w.table} ${ownerPhrase(f)} and is empty (a Scan found no item): it is deleted, and the deploy creates it anew from the template.`
    )
  }
  w.ask('Is data loss allowed?', yesNo(policy.allowDataLoss))
  if (!policy.allowDataLoss) {
    return w.blocked(
      `Table ${w.table} ${dataPhrase(f.hasData)}, and allow-data-loss is false: strategy delete would lose it. Use strategy backup-restore to keep the data, or set allow-data-loss: true if it may go.`
    )
  }
  return w.deleteIt(
    `Table ${w.table} ${ownerPhrase(f)} and ${dataPhrase(f.hasData)}; allow-data-loss is true, so it is deleted without an export and nothing is restored after the deploy: ${policy.awsBackup === false ? 'aws-backup is false, so its items are lost for good' : 'only the on-demand backup taken first keeps its items (restorable to a new table with RestoreTableFromBackup)'}. The deploy creates it anew from the template.`
  )
}

/**
 * A server-side restore an earlier run left unfinished (its restore owed from an S3 copy for
 * ImportTable: inspect/owed-restores.ts, inspect/server-side-resume.ts): the table was deleted after
 * its copy went to S3, and the restore is not recorded (the run stopped before or after ImportTable,
 * before the IMPORT change set, or an import failed). It is
 * resumed, whatever the strategy: ImportTable from the copy (again, when the earlier import failed),
 * or the earlier import waited for, verified and adopted. Never a second import while the table the
 * first one created exists. Null when the plan should go on as usual (no table from the import, and
 * the server-side path is not taken for it: the deploy creates it and phase restore loads the copy).
 */
function resumeServerSide(w: Walk, resume: ServerSideResume): Decision | null {
  const { f, policy } = w
  if (resume.live === 'other') {
    // Backed up and deleted, it would become the newest backup of the table, and the copy that is
    // owed (which may be the only whole one: a partial import's table looks like this when
    // ListImports cannot tell) would no longer be found: the owed-restore rule, for every strategy.
    w.ask('Is a server-side restore of it unfinished?', `yes: ${resume.manifestUri}`)
    const owed = owedRestoreBlocker(w.f) as Blocker
    return w.blocked(
      `An earlier run copied ${w.table} to S3 (${resume.manifestUri}) and deleted it, and its restore is owed; the table now there is not known to be the one its ImportTable created${resume.importRequestedAt ? ` (the import requested at ${resume.importRequestedAt} was not found: grant dynamodb:DescribeImport and dynamodb:ListImports)` : ''}, so it is not touched: ${owed.reason}. ${owed.hint} Or, if the table holds nothing you need, delete it yourself and run again (the copy is imported then).`
    )
  }
  // A table only this action's import can have made is still checked for an owner like any other.
  if (resume.live === 'from-import' && f.owner !== 'retained' && f.owner !== 'unmanaged') return null
  const fromImport = resume.live === 'from-import'
  w.ask('Is a server-side restore of it unfinished?', `yes: ${resume.manifestUri}`)
  const imp = resume.import
  const earlier = `An earlier run copied ${w.table} to S3 (${resume.manifestUri}) and deleted it`
  const blockers = [
    ...(policy.protectedStage ? [`${protectedReason(policy)}, where the action never deletes a table`] : []),
    ...(policy.copyMode === 'runner' && !fromImport ? ['copy-mode is runner'] : []),
    ...serverSideBlockers(f, { ...policy, s3Bucket: true })
  ]
  if (blockers.length > 0) {
    if (!fromImport) {
      w.reasons.push(
        `${earlier}; its restore is owed, and it is not resumed server-side (${blockers.join('; ')}): phase restore loads the copy after the deploy.`
      )
      return null
    }
    return w.blocked(
      `${earlier}; import ${imp?.arn ?? ''} re-created it from the copy but was never verified, and it cannot be finished here: ${blockers.join('; ')}. The table holds only items of the copy: delete it and run again (phase restore then loads the copy after the deploy), or change the template back.`
    )
  }
  w.copy = 'server-side'
  w.wording = 'imported'
  w.ask('Which path do its items take?', 'server-side')
  let how: string
  if (!fromImport && imp === null) how = `ImportTable now creates it from that copy with the template's keys`
  else if (!fromImport)
    how = `the import ${imp?.arn ?? ''} ended ${imp?.status ?? ''} without a table; ImportTable now runs again from the copy`
  else if (imp?.status === 'COMPLETED' && resume.verified)
    how = `the import ${imp.arn} created it and an earlier run verified it against the copy: it is adopted now (no second import, no second scan)`
  else if (imp?.status === 'COMPLETED')
    how = `the import ${imp.arn} created it: its content is now verified against the copy (no second import)`
  else if (imp?.status === 'IN_PROGRESS')
    how = `the import ${imp.arn} is still running: this run waits for it and verifies the table it creates (no second import)`
  else
    how = `the import ${imp?.arn ?? ''} ended ${imp?.status ?? 'unknown'} and left ${w.table} with part of the items: that table (created by the import, holding nothing but items of the copy) is deleted and ImportTable runs again from the copy`
  return w.decide(
    'backup-restore',
    `${earlier}, and its server-side restore is unfinished: ${how}, and it is imported into stack ${w.stackName} before the deploy.`,
    'Copy path: server-side (resumed).'
  )
}

const WOULD: Record<Decision, string> = {
  none: 'leave it alone',
  import: 'import it',
  'backup-restore': 'back it up, delete it and restore it after the deploy',
  delete: 'delete it',
  blocked: 'stop here (blocked)'
}

function walk(w: Walk, strategy: ActingStrategy): Decision {
  const { f } = w
  if (f.spec.account !== undefined || f.notCheckable) {
    w.ask('Can it be checked with these credentials?', yesNo(!f.notCheckable))
    if (f.notCheckable) {
      return w.blocked(
        `Table ${w.table} cannot be checked with these credentials: ${f.notCheckable}. Run the action for this stack with credentials for its account (for example a second configure-aws-credentials step and run of this action), or leave its tables out with the \`tables\` input.`
      )
    }
  }
  if (f.spec.resourceType === 'AWS::DynamoDB::GlobalTable' && (f.spec.replicaRegions?.length ?? 0) > 1) {
    const orphans = replicaOrphanBlocker(f)
    w.ask("Are the global table's other replica regions free?", yesNo(orphans === null))
    if (orphans) return w.blocked(`Table ${w.table}: ${orphans.reason}. ${orphans.hint}`)
  }
  w.ask('Does the table exist?', yesNo(f.exists))
  const resumed = f.serverSideResume ? resumeServerSide(w, f.serverSideResume) : null
  if (resumed) return resumed
  if (!f.exists) return w.decide('none', `Table ${w.table} does not exist yet; the deploy will create it.`)

  w.ask('Who owns it?', ownerAnswer(f))
  if (f.owner === 'stack') {
    const adopted = f.serverSideResume
    if (adopted?.live === 'from-import' && adopted.verified) {
      // The earlier run stopped between its IMPORT change set and recording the restore.
      w.ask('Is its restore recorded?', `no: ${adopted.manifestUri}`)
      w.recordRestore = adopted.manifestUri
      return w.decide(
        'none',
        `Table ${w.table} already belongs to stack ${w.stackName}: an earlier run re-created it by ImportTable (${adopted.import?.arn ?? 'its import'}) from ${adopted.manifestUri}, verified it against that copy (its created-by-import tag) and imported it into the stack, but stopped before recording the restore. This run records it (nothing is copied or scanned again), so no restore is owed; the deploy updates the table in place.`
      )
    }
    return w.decide(
      'none',
      `Table ${w.table} already belongs to stack ${w.stackName}; the deploy updates it in place.`
    )
  }
  if (f.owner === 'unknown') {
    return w.blocked(
      `The owner of table ${w.table} could not be determined, so nothing is done with it: a live stack might own it. ${f.ownerUnknownBecause ?? 'A CloudFormation read failed.'}. Grant the permission named, then run again.`
    )
  }
  const other = otherStack(f)
  if (other !== null) {
    return w.blocked(
      `Table ${w.table} belongs to the live stack ${other}${f.spec.stack ? `, not to ${f.spec.stack}` : ''}: a table another stack owns is never touched, and the deploy cannot create it. Rename the table in the template, or remove it from stack ${other} first (retain it there; then it can be imported here).`
    )
  }

  const stack = f.stack
  const busy = stack?.exists === true && isBusy(stack.status)
  w.ask('Is the stack free of running operations?', yesNo(!busy))
  if (busy && stack) {
    return w.blocked(
      `Stack ${stack.name} is ${stack.status ?? 'busy'}: an operation is running, and nothing is changed meanwhile. Wait for it to finish, then run again.`
    )
  }

  switch (strategy) {
    case 'auto':
      return autoDecision(w)
    case 'import':
      return importDecision(w)
    case 'backup-restore':
      return backupRestoreDecision(w)
    case 'delete':
      return deleteDecision(w)
  }
}

function planEntry(f: Finding, policy: Policy): PlanEntry {
  const w = new Walk(f, policy)
  // Report mode shows what auto would decide, so users see what would happen; it changes nothing,
  // and main.ts never fails a report run on a blocked entry.
  const report = policy.strategy === 'report'
  const strategy: ActingStrategy = policy.strategy === 'report' ? 'auto' : policy.strategy
  w.ask('Strategy?', report ? 'report (showing what auto would do)' : strategy)
  const decision = walk(w, strategy)
  const note = replicaNote(f)
  const walked = note ? [note, ...w.reasons] : w.reasons
  const reasons = report
    ? [`Report mode: nothing is changed; auto would ${WOULD[decision]}.`, ...walked]
    : walked
  return {
    table: f.tableName,
    region: f.region,
    ...(f.notCheckable ? { notCheckable: f.notCheckable } : {}),
    stack: f.spec.stack,
    logicalId: f.spec.logicalId,
    exists: f.exists,
    owner: f.owner,
    hasData: f.hasData,
    differences: differencesIn(f, w.wording),
    decision,
    reasons,
    path: w.path,
    // An unknown owner is not called an orphan: it might be a live stack's table.
    orphan: f.exists && f.owner !== 'stack' && f.owner !== 'unknown',
    ...(decision === 'backup-restore' && w.copy ? { copy: w.copy } : {}),
    ...(decision === 'none' && w.recordRestore ? { recordRestore: w.recordRestore } : {})
  }
}

/**
 * The plan for every finding, plus stack-level notes (from `stacks`, else from the findings' stacks),
 * and the tables whose names could not be resolved (`unresolved`: they block a run that acts).
 */
export function planTables(
  findings: Finding[],
  policy: Policy,
  stacks?: StackState[],
  unresolved: UnresolvedTable[] = []
): Plan {
  const byName = new Map<string, StackState>()
  for (const s of stacks ?? findings.flatMap(f => (f.stack ? [f.stack] : []))) {
    const key = `${s.name}\u0000${s.region ?? ''}`
    if (!byName.has(key)) byName.set(key, s)
  }
  const notes = [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => stackNote(s))
    .filter((n): n is string => n !== null)
  return {
    policy,
    entries: findings.map(f => planEntry(f, policy)),
    notes,
    ...(unresolved.length > 0 ? { unresolved } : {})
  }
}
