/**
 * Safety rule: a table of a stack pinned to another account than the credentials' is never checked or
 * changed here (a namesake in this account is not that table). The planner blocks it; a forged plan that
 * imports, deletes or re-creates it must still be refused by the executor before any AWS call.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mockClient } from 'aws-sdk-client-mock'
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { executePlan } from '../../src/execute/execute-plan.js'
import { getInputs } from '../../src/inputs.js'
import { planTables } from '../../src/plan/plan.js'
import type { Check, Decision } from '../../src/types.js'
import { oneRegion } from '../../test-support/aws-clients.js'
import { finding, liveTable, stackState, tableSpec } from '../../test-support/builders.js'

const cfnMock = mockClient(CloudFormationClient)
const ddbMock = mockClient(DynamoDBClient)
afterEach(() => {
  cfnMock.reset()
  ddbMock.reset()
})

const NOT_CHECKABLE =
  'stack pr-7-other-account is for account 999999999999, but these credentials are for account 123456789012'

describe('a table of a stack for another account', () => {
  it.each<Decision>(['import', 'delete', 'backup-restore'])(
    'a forged %s is refused before any AWS call',
    async decision => {
      // As if inspect had read it (it never does): a plan forged to act on it must still stop.
      const f = finding({
        tableName: 'pr-7-foreign',
        spec: tableSpec({ tableName: 'pr-7-foreign', stack: 'pr-7-other-account', account: '999999999999' }),
        notCheckable: NOT_CHECKABLE,
        live: liveTable({ tableName: 'pr-7-foreign' }),
        hasData: false
      })
      const policy = {
        stage: 'pr-7',
        strategy: 'delete' as const,
        protectedStage: false,
        allowDataLoss: true
      }
      const plan = planTables([f], policy)
      expect(plan.entries[0]?.decision).toBe('blocked')
      const check: Check = {
        discovery: { source: 'cloud-assembly', stacks: [], tables: [f.spec], notes: [], warnings: [] },
        inspection: {
          findings: [f],
          stacks: [stackState({ name: 'pr-7-other-account' })],
          region: 'us-east-1'
        },
        plan,
        identity: {
          account: '123456789012',
          arn: 'arn:aws:sts::123456789012:assumed-role/r/s',
          partition: 'aws',
          userId: 'AROAEXAMPLE:s'
        }
      }
      const inputs = getInputs(
        n => ({ stage: 'pr-7', strategy: 'delete', 'allow-data-loss': 'true' })[n] ?? '',
        {
          cwd: '/tmp',
          awsRegion: 'us-east-1'
        }
      )
      const clients = {
        dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
        cloudformation: new CloudFormationClient({ region: 'us-east-1' }),
        s3: new S3Client({ region: 'us-east-1' }),
        sts: new STSClient({ region: 'us-east-1' })
      }
      // A plan the planner never makes: the table acted on as if it had been checked.
      const forged: Check = {
        ...check,
        plan: {
          ...plan,
          entries: plan.entries.map(e => ({ ...e, decision, reasons: [`forged: ${decision}`] }))
        }
      }
      const { result } = await executePlan(forged, inputs, {
        clients: oneRegion(clients),
        logger: { info: () => {}, warning: () => {}, debug: () => {} },
        clock: { now: () => 0, sleep: async () => {} }
      })
      expect(result.outcome).toBe('blocked')
      expect(result.stateNote).toContain(`pr-7-foreign: ${NOT_CHECKABLE}`)
      expect(ddbMock.calls()).toHaveLength(0)
      expect(cfnMock.calls()).toHaveLength(0)
    }
  )
})
