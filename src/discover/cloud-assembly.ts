import { existsSync, readFileSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { FileError, errorMessage } from '../errors.js'
import { isRecord, type StackSpec } from '../types.js'
import { readErrorMessage, readTemplateFile } from './template.js'

/** Stacks read from templates, plus notes on what could not be followed. */
export interface StacksRead {
  stacks: StackSpec[]
  notes: string[]
}

const STACK_ARTIFACT = 'aws:cloudformation:stack'
const NESTED_ASSEMBLY_ARTIFACT = 'cdk:cloud-assembly'
const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack'
/** CDK's metadata key on a nested stack resource naming its template file in the assembly directory. */
const ASSET_PATH_KEY = 'aws:asset:path'

function readManifest(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new FileError(file, `cannot read the cloud assembly manifest: ${readErrorMessage(err)}`)
  }
  let manifest: unknown
  try {
    manifest = JSON.parse(text)
  } catch (err) {
    throw new FileError(file, `corrupt cloud assembly manifest (invalid JSON): ${errorMessage(err)}`)
  }
  if (!isRecord(manifest))
    throw new FileError(file, 'corrupt cloud assembly manifest: expected a JSON object')
  const artifacts = manifest.artifacts
  if (artifacts !== undefined && !isRecord(artifacts)) {
    throw new FileError(file, 'corrupt cloud assembly manifest: "artifacts" is not an object')
  }
  return artifacts ?? {}
}

/** `aws://123456789012/eu-west-1` → its concrete parts; `unknown-account`/`unknown-region` mean environment-agnostic. */
export function parseEnvironment(environment: unknown): { account?: string; region?: string } {
  if (typeof environment !== 'string') return {}
  const match = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(environment)
  if (!match) return {}
  const [, account, region] = match as unknown as [string, string, string]
  return {
    ...(account !== 'unknown-account' ? { account } : {}),
    ...(region !== 'unknown-region' ? { region } : {})
  }
}

/** `s3://bucket/key` → `bucket` (placeholders kept); undefined for anything else. */
function bucketOfS3Url(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined
  const match = /^s3:\/\/([^/]+)\//.exec(url)
  return match?.[1]
}

/**
 * The CDK bootstrap assets bucket of a stack artifact: from `stackTemplateAssetObjectUrl` (the default
 * synthesizer writes `s3://cdk-<qualifier>-assets-<account>-<region>/<hash>.json`), else from the
 * stack's asset manifest (`<stack>.assets.json`: the destination of the file asset whose source is the
 * stack's template). Placeholders (`${AWS::AccountId}`, `${AWS::Region}`) are kept. Undefined when the
 * assembly names none (legacy synthesizer, no bootstrap) or the asset manifest cannot be read.
 */
function assetsBucketOf(
  artifacts: Record<string, unknown>,
  properties: Record<string, unknown>,
  dependencies: unknown,
  assemblyDir: string,
  templateFile: string
): string | undefined {
  const direct = bucketOfS3Url(properties.stackTemplateAssetObjectUrl)
  if (direct) return direct
  for (const dep of Array.isArray(dependencies) ? dependencies : []) {
    const manifest = typeof dep === 'string' ? artifacts[dep] : undefined
    if (!isRecord(manifest) || manifest.type !== 'cdk:asset-manifest' || !isRecord(manifest.properties))
      continue
    const file = manifest.properties.file
    if (typeof file !== 'string') continue
    let assets: unknown
    try {
      assets = JSON.parse(readFileSync(path.resolve(assemblyDir, file), 'utf8'))
    } catch {
      continue
    }
    const files = isRecord(assets) && isRecord(assets.files) ? Object.values(assets.files) : []
    for (const asset of files) {
      if (!isRecord(asset) || !isRecord(asset.source) || !isRecord(asset.destinations)) continue
      if (asset.source.path !== path.basename(templateFile)) continue
      for (const destination of Object.values(asset.destinations)) {
        if (isRecord(destination) && typeof destination.bucketName === 'string') return destination.bucketName
      }
    }
  }
  return undefined
}

/**
 * Follows the nested stacks of `parent`: AWS::CloudFormation::Stack resources whose Metadata names their
 * template (`aws:asset:path`, relative to `baseDir`), recursively. Nested stacks without a local template
 * (plain TemplateURL) are noted, since the tables they may create cannot be seen.
 * @throws FileError naming a nested template that is missing or malformed.
 */
export function readNestedStacks(parent: StackSpec, baseDir: string, notes: string[]): StackSpec[] {
  const found: StackSpec[] = []
  const chain = new Set<string>([parent.templateFile])
  const walk = (stack: StackSpec): void => {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (resource.Type !== NESTED_STACK_TYPE) continue
      const where = [stack.name, ...stack.nestedPath, logicalId].join('/')
      const assetPath = resource.Metadata?.[ASSET_PATH_KEY]
      if (typeof assetPath !== 'string') {
        notes.push(
          `nested stack ${where} has no local template (no '${ASSET_PATH_KEY}' metadata): tables it creates are not checked`
        )
        continue
      }
      const templateFile = path.resolve(baseDir, assetPath)
      if (!existsSync(templateFile)) {
        throw new FileError(templateFile, `the template of nested stack ${where} is missing (no such file)`)
      }
      if (chain.has(templateFile)) {
        throw new FileError(templateFile, `nested stack ${where} includes its own template (cycle)`)
      }
      const nested: StackSpec = {
        ...stack,
        templateFile,
        template: readTemplateFile(templateFile),
        nestedPath: [...stack.nestedPath, logicalId]
      }
      found.push(nested)
      chain.add(templateFile)
      walk(nested)
      chain.delete(templateFile)
    }
  }
  walk(parent)
  return found
}

/**
 * Reads a CDK cloud assembly (the `cdk synth` output directory): every stack artifact, the stacks of nested
 * assemblies (CDK Stages) and their nested stacks, in manifest order. Stack name = `properties.stackName`,
 * else the artifact id.
 * @throws FileError naming a manifest or template that is missing or corrupt.
 */
export function readCloudAssembly(dir: string): StacksRead {
  const result: StacksRead = { stacks: [], notes: [] }
  const visited = new Set<string>()

  const readAssembly = (assemblyDir: string): void => {
    const manifestFile = path.join(assemblyDir, 'manifest.json')
    const real = existsSync(assemblyDir) ? realpathSync(assemblyDir) : assemblyDir
    if (visited.has(real)) return
    visited.add(real)
    const artifacts = readManifest(manifestFile)

    for (const [artifactId, artifact] of Object.entries(artifacts)) {
      if (!isRecord(artifact)) continue
      const properties = isRecord(artifact.properties) ? artifact.properties : {}
      if (artifact.type === NESTED_ASSEMBLY_ARTIFACT) {
        if (typeof properties.directoryName !== 'string') {
          throw new FileError(
            manifestFile,
            `nested cloud assembly '${artifactId}' has no properties.directoryName`
          )
        }
        readAssembly(path.resolve(assemblyDir, properties.directoryName))
        continue
      }
      if (artifact.type !== STACK_ARTIFACT) continue
      if (typeof properties.templateFile !== 'string') {
        throw new FileError(manifestFile, `stack artifact '${artifactId}' has no properties.templateFile`)
      }
      const name = typeof properties.stackName === 'string' ? properties.stackName : artifactId
      const templateFile = path.resolve(assemblyDir, properties.templateFile)
      if (!existsSync(templateFile)) {
        throw new FileError(
          templateFile,
          `the template of stack ${name} (artifact '${artifactId}' in ${manifestFile}) is missing`
        )
      }
      const assetsBucket = assetsBucketOf(
        artifacts,
        properties,
        artifact.dependencies,
        assemblyDir,
        templateFile
      )
      const stack: StackSpec = {
        name,
        templateFile,
        template: readTemplateFile(templateFile),
        nestedPath: [],
        ...parseEnvironment(artifact.environment),
        ...(typeof artifact.environment === 'string' ? { environment: artifact.environment } : {}),
        ...(assetsBucket ? { assetsBucket } : {})
      }
      result.stacks.push(stack, ...readNestedStacks(stack, assemblyDir, result.notes))
    }
  }

  readAssembly(path.resolve(dir))
  return result
}
