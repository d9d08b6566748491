/**
 * Contract: strategy import with a blocking difference (a key change) stops with outcome blocked
 * BEFORE any change set exists, and the report names the key attributes, live vs template.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mockClient } from 'aws-sdk-client-mock'
import { CloudFormationClient, CreateChangeSetCommand } from '@aws-sdk/client-cloudformation'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { compareTable } from '../../src/compare/compare.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { planTables } from '../../src/plan/plan.js'
import type { Check } from '../../src/types.js'
import { renderReport } from '../../src/report/markdown.js'
import { getInputs } from '../../src/inputs.js'
import { finding, stackState, tableConfig } from '../../test-support/builders.js'
import { oneRegion } from '../../test-support/aws-clients.js'

const cfnMock = mockClient(CloudFormationClient)
const ddbMock = mockClient(DynamoDBClient)
afterEach(() => {
  cfnMock.reset()
  ddbMock.reset()
})

describe('strategy import with blocking differences', () => {
  it('is blocked before any change set, naming the key attributes live vs template', async () => {
    const differences = compareTable(
      {
        keys: [
          { name: 'pk', type: 'HASH' },
          { name: 'createdAt', type: 'RANGE' }
        ],
        attributeTypes: { pk: 'S', createdAt: 'N' }
      },
      tableConfig()
    )
    const f = finding({ differences })
    const inputs = getInputs(n => ({ stage: 'pr-5', strategy: 'import' })[n] ?? '', {
      cwd: '/tmp',
      awsRegion: 'us-east-1'
    })
    const plan = planTables([f], {
      stage: 'pr-5',
      strategy: 'import',
      protectedStage: false,
      allowDataLoss: false
    })
    const check: Check = {
      discovery: { source: 'template', stacks: [], tables: [f.spec], notes: [], warnings: [] },
      inspection: { findings: [f], stacks: [stackState()], region: 'us-east-1' },
      plan,
      identity: null
    }
    const clients = {
      dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
      cloudformation: new CloudFormationClient({ region: 'us-east-1' }),
      s3: new S3Client({ region: 'us-east-1' }),
      sts: new STSClient({ region: 'us-east-1' })
    }
    const { result } = await executePlan(check, inputs, {
      clients: oneRegion(clients),
      logger: { info: () => {}, warning: () => {}, debug: () => {} },
      clock: { now: () => 0, sleep: async () => {} }
    })

    expect(result.outcome).toBe('blocked')
    expect(cfnMock.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(cfnMock.calls()).toHaveLength(0)
    expect(ddbMock.calls()).toHaveLength(0)
    const [entry] = result.plan!.entries
    expect(entry?.decision).toBe('blocked')
    const report = renderReport({
      stage: 'pr-5',
      strategy: 'import',
      phase: 'pre-deploy',
      dryRun: false,
      region: 'us-east-1',
      result
    })
    expect(report).toContain('pr-5-main-table')
    expect(report).toMatch(/sk \(S, RANGE\)/)
    expect(report).toMatch(/createdAt \(N, RANGE\)/)
  })
})
