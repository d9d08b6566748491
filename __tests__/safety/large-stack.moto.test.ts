/**
 * Safety rule: a table owned by a live stack of more than 100 resources is never an orphan.
 * Real CloudFormation's DescribeStackResources by physical id returns at most the first 100
 * resources of the owning stack, so the table itself may be missing from the answer; the stack is
 * taken from the answer and confirmed with ListStackResources. The recording proxy answers that
 * call as real CloudFormation does (moto ignores the physical id), and the table carries no
 * aws:cloudformation:* tag (like an imported table), so nothing else could name its owner.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeStackResourcesCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation'
import { DescribeTableCommand, UntagResourceCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { listAllTags } from '../../src/aws/dynamodb-read.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { CfnTemplate } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import { createStackAndWait, mergeTemplates, tableTemplate } from '../../test-support/orphans.js'
import { isReadOnlyOperation, type RecordingProxy } from '../../test-support/recording-proxy.js'
import {
  decisionOf,
  deps,
  forge,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace,
  startRecordedMoto,
  stopRecordedMoto
} from '../../test-support/execution.js'

const RULE = 'a table owned by a live stack of more than 100 resources is never an orphan'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
const BIG = 'legacy-big'
const TOPICS = 120

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let ws: Workspace

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto({ realDescribeStackResources: true }))
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
  ws = workspace(tableTemplate({ tableName: TABLE }))
})
afterEach(() => ws.remove())

/** 120 topics, then the table: the table is resource 121 of the stack. */
function bigTemplate(): CfnTemplate {
  const topics: CfnTemplate = {
    Resources: Object.fromEntries(
      Array.from({ length: TOPICS }, (_, i) => [
        `Topic${String(i).padStart(3, '0')}`,
        { Type: 'AWS::SNS::Topic', Properties: { TopicName: `legacy-topic-${i}` } }
      ])
    )
  }
  return mergeTemplates(topics, tableTemplate({ tableName: TABLE, logicalId: 'ZzOrdersTable' }))
}

describe(RULE, () => {
  it('the owner is found through the 100-resource answer and confirmed by ListStackResources: blocked, forged deletes refused, the table untouched', async () => {
    await createStackAndWait(clients, BIG, bigTemplate())
    const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table
      ?.TableArn as string
    const cfnTags = Object.keys(await listAllTags(clients.dynamodb, arn)).filter(k =>
      k.startsWith('aws:cloudformation:')
    )
    await clients.dynamodb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: cfnTags }))
    expect(Object.keys(await listAllTags(clients.dynamodb, arn))).toEqual([])

    // The proxy answers as real CloudFormation: 100 resources of the big stack, the table not among them.
    const answer = await clients.cloudformation.send(
      new DescribeStackResourcesCommand({ PhysicalResourceId: TABLE })
    )
    expect(answer.StackResources).toHaveLength(100)
    expect(new Set(answer.StackResources?.map(r => r.StackName))).toEqual(new Set([BIG]))
    expect(answer.StackResources?.some(r => r.PhysicalResourceId === TABLE)).toBe(false)
    const listed = await clients.cloudformation.send(new ListStackResourcesCommand({ StackName: BIG }))
    expect(listed.StackResourceSummaries?.length).toBe(TOPICS + 1)

    const before = await tableContent(clients, TABLE)
    for (const strategy of ['auto', 'delete', 'backup-restore'] as const) {
      const inputs = makeInputs(ws, { stackName: STACK, strategy, allowDataLoss: true, awsBackup: true })
      const check = await runCheck(inputs, clients)
      expect(check.inspection.findings[0]?.owner).toBe(`other-stack:${BIG}`)
      expect(decisionOf(check, TABLE)).toBe('blocked')

      const mark = rec.calls.length
      for (const decision of ['delete', 'backup-restore'] as const) {
        const { result } = await executePlan(forge(check, TABLE, decision), inputs, deps(clients))
        expect(result.outcome).toBe('blocked')
        expect(result.stateNote).toMatch(new RegExp(`Refusing to delete ${TABLE}: live stack ${BIG} owns it`))
      }
      expect(
        rec
          .operations()
          .slice(mark)
          .filter(op => !isReadOnlyOperation(op))
      ).toEqual([])
    }
    expect(await tableContent(clients, TABLE)).toEqual(before)
  }, 60_000)
})
