import { readFileSync } from 'node:fs'
import { parseDocument, type CollectionTag, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml'
import { FileError, errorMessage } from '../errors.js'
import { isRecord, type CfnTemplate } from '../types.js'

/**
 * CloudFormation's YAML short-form tags and the long-form key each one stands for.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */
export const SHORT_FORM_TAGS: Readonly<Record<string, string>> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Sub: 'Fn::Sub',
  GetAtt: 'Fn::GetAtt',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  Not: 'Fn::Not',
  And: 'Fn::And',
  Or: 'Fn::Or',
  FindInMap: 'Fn::FindInMap',
  Base64: 'Fn::Base64',
  Cidr: 'Fn::Cidr',
  ImportValue: 'Fn::ImportValue',
  GetAZs: 'Fn::GetAZs',
  Transform: 'Fn::Transform'
}

/** `!GetAtt Resource.Attribute` → ['Resource', 'Attribute'] (attribute names may hold dots: split at the first). */
function getAttScalar(value: string): unknown {
  const dot = value.indexOf('.')
  return dot < 0 ? value : [value.slice(0, dot), value.slice(dot + 1)]
}

function buildCustomTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = []
  for (const [short, long] of Object.entries(SHORT_FORM_TAGS)) {
    const tag = `!${short}`
    tags.push({
      tag,
      resolve: (value: string) => ({ [long]: short === 'GetAtt' ? getAttScalar(value) : value })
    })
    tags.push({ tag, collection: 'seq', resolve: seq => ({ [long]: (seq as YAMLSeq).toJSON() as unknown }) })
    tags.push({ tag, collection: 'map', resolve: map => ({ [long]: (map as YAMLMap).toJSON() as unknown }) })
  }
  return tags
}

const customTags = buildCustomTags()

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`
}

/** yaml's messages end in a code excerpt after a blank line; keep the first line, which carries line and column. */
function firstLine(message: string): string {
  return (message.split('\n', 1)[0] ?? message).trim().replace(/:$/, '')
}

/**
 * JSON.parse's message, with a line and column: from the offset it reports, else from yaml's parse of the same
 * text (JSON is YAML 1.2 flow syntax), since Node 20 often gives neither.
 */
function jsonErrorMessage(text: string, err: unknown): string {
  // Node ≥ 22 appends "(line L column C)" itself; one location format for all versions.
  const message = errorMessage(err)
    .replace(/\s+/g, ' ')
    .replace(/ \(line \d+ column \d+\)$/, '')
  const offset = /at position (\d+)/.exec(message)
  if (offset) {
    const before = text.slice(0, Number(offset[1]))
    const line = before.split('\n').length
    return `invalid JSON at line ${line}, column ${before.length - before.lastIndexOf('\n')}: ${message}`
  }
  const at = parseDocument(text).errors[0]?.linePos?.[0]
  return at ? `invalid JSON at line ${at.line}, column ${at.col}: ${message}` : `invalid JSON: ${message}`
}

function parseText(file: string, text: string): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new FileError(file, jsonErrorMessage(text, err))
    }
  }
  const doc = parseDocument(text, { customTags, prettyErrors: true })
  const error = doc.errors[0]
  if (error) throw new FileError(file, `invalid YAML: ${firstLine(error.message)}`)
  // An unknown tag (e.g. a typo like `!Reff`) would silently become a plain string; CloudFormation rejects it.
  const unknownTag = doc.warnings.find(w => w.code === 'TAG_RESOLVE_FAILED')
  if (unknownTag) {
    throw new FileError(
      file,
      `invalid YAML: ${firstLine(unknownTag.message)} (CloudFormation short forms: ${Object.keys(
        SHORT_FORM_TAGS
      )
        .map(t => `!${t}`)
        .join(', ')})`
    )
  }
  return doc.toJS({ maxAliasCount: 1000 }) as unknown
}

/** Checks the parsed value is a template: a mapping with a Resources mapping whose entries have a Type. */
export function asTemplate(file: string, value: unknown): CfnTemplate {
  if (!isRecord(value)) {
    throw new FileError(
      file,
      `not a CloudFormation template: the document is ${describe(value)}, expected a mapping`
    )
  }
  const resources = value.Resources
  if (!isRecord(resources)) {
    throw new FileError(
      file,
      resources === undefined
        ? 'not a CloudFormation template: it has no Resources section'
        : `not a CloudFormation template: Resources is ${describe(resources)}, expected a mapping of logical ids to resources`
    )
  }
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isRecord(resource) || typeof resource.Type !== 'string') {
      throw new FileError(file, `resource '${logicalId}' has no Type (expected a mapping with a Type string)`)
    }
  }
  // Checked above: a mapping whose Resources are mappings with a Type; the rest is kept as CloudFormation allows.
  const template: CfnTemplate = value
  return template
}

/** Parses a CloudFormation template string (JSON or YAML with short-form tags turned into long form). */
export function parseTemplate(file: string, text: string): CfnTemplate {
  text = text.replace(/^\uFEFF/, '')
  if (text.trim() === '') throw new FileError(file, 'the file is empty, expected a CloudFormation template')
  return asTemplate(file, parseText(file, text))
}

/**
 * Reads a CloudFormation template file, JSON or YAML. Short-form YAML tags (`!Ref`, `!Sub`, `!GetAtt A.B`, …)
 * become their long forms (`{ Ref }`, `{ 'Fn::Sub' }`, `{ 'Fn::GetAtt': ['A', 'B'] }`).
 * @throws FileError naming the file when it cannot be read or parsed, or is not a template.
 */
export function readTemplateFile(file: string): CfnTemplate {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new FileError(file, `cannot read the template: ${readErrorMessage(err)}`)
  }
  return parseTemplate(file, text)
}

/** `ENOENT: no such file or directory, open '/x'` → `no such file or directory` (the path is already named). */
export function readErrorMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT') return 'no such file or directory'
  if (code === 'EISDIR') return 'it is a directory, not a file'
  if (code === 'EACCES') return 'permission denied'
  return errorMessage(err)
}
