/**
 * aws-backup-retention-days deletes an old backup only if, described again right before its
 * DeleteBackup, it is still AVAILABLE under the name the plan chose it by: a backup that changed
 * between the plan and the delete (no longer AVAILABLE, another name) is kept with a note, and one
 * already gone is no failure and no note. DescribeBackup's answers are forged (moto cannot change a
 * backup's status).
 *
 * Seen to fail without its guard: with the status/name check of retireBackups
 * (execute/backup-retention.ts) taken out, DeleteBackup is called for the changed backups; with
 * the BackupNotFoundException case taken out, the vanished backup becomes a "could not be deleted" note.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteBackupCommand,
  DescribeBackupCommand,
  DynamoDBClient,
  DynamoDBServiceException
} from '@aws-sdk/client-dynamodb'
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { retireBackups } from '../../src/execute/backup-retention.js'
import type { Logger, RetiredBackup } from '../../src/types.js'
import { oneRegion } from '../../test-support/aws-clients.js'

// A logger of its own: test-support/execution.js would bring moto's start-up into a contract test.
const quiet: Logger = { info: () => {}, warning: () => {}, debug: () => {} }

const ddbMock = mockClient(DynamoDBClient)
const regional = oneRegion({
  dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
  cloudformation: new CloudFormationClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  sts: new STSClient({ region: 'us-east-1' })
})
const chosen: RetiredBackup = {
  table: 'pr-7-orders',
  region: 'us-east-1',
  arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-7-orders/backup/01700000000000-abcdef12',
  name: 'orphan-guard_20250304T050607Z_restore_pr-7',
  takenAt: '2025-03-04T05:06:07.000Z',
  why: 'its restore is verified'
}

/** DescribeBackup answers the chosen backup as it is now. */
function describedAs(now: { status: 'AVAILABLE' | 'CREATING' | 'DELETED'; name: string }): void {
  ddbMock.on(DescribeBackupCommand).resolves({
    BackupDescription: {
      BackupDetails: {
        BackupArn: chosen.arn,
        BackupName: now.name,
        BackupStatus: now.status,
        BackupType: 'USER',
        BackupCreationDateTime: new Date(chosen.takenAt)
      }
    }
  })
}

const retire = () =>
  retireBackups(regional, {
    backups: [chosen],
    dryRun: false,
    logger: quiet
  })

const deleteBackupsCalled = () =>
  ddbMock.commandCalls(DeleteBackupCommand).map(c => c.args[0].input.BackupArn)

beforeEach(() => {
  ddbMock.reset()
  ddbMock.on(DeleteBackupCommand).resolves({})
})

describe('an old backup is deleted only if it is still the AVAILABLE backup of the name the plan chose', () => {
  it('still AVAILABLE under its name: deleted', async () => {
    describedAs({ status: 'AVAILABLE', name: chosen.name })

    expect((await retire()).deleted).toEqual([chosen])
    expect(deleteBackupsCalled()).toEqual([chosen.arn])
  })

  it.each(['CREATING', 'DELETED'] as const)(
    'no longer AVAILABLE (now %s): no DeleteBackup, kept with a note',
    async status => {
      describedAs({ status, name: chosen.name })

      const { deleted, notes } = await retire()

      expect(deleteBackupsCalled()).toEqual([])
      expect(deleted).toEqual([])
      expect(notes).toEqual([
        `pr-7-orders: old backup ${chosen.arn} kept: it is now ${status} named ${chosen.name}`
      ])
    }
  )

  it('another name at that ARN: no DeleteBackup, kept with a note', async () => {
    describedAs({ status: 'AVAILABLE', name: 'made-by-hand' })

    const { deleted, notes } = await retire()

    expect(deleteBackupsCalled()).toEqual([])
    expect(deleted).toEqual([])
    expect(notes).toEqual([
      `pr-7-orders: old backup ${chosen.arn} kept: it is now AVAILABLE named made-by-hand`
    ])
  })

  it('gone before the delete (BackupNotFoundException): no DeleteBackup, not a failure, no note', async () => {
    ddbMock.on(DescribeBackupCommand).rejects(
      new DynamoDBServiceException({
        name: 'BackupNotFoundException',
        $fault: 'client',
        $metadata: {},
        message: `Backup not found: ${chosen.arn}`
      })
    )

    const { deleted, notes } = await retire()

    expect(deleteBackupsCalled()).toEqual([])
    expect(deleted).toEqual([])
    expect(notes).toEqual([])
  })
})
