import { mockClient } from 'aws-sdk-client-mock'
import { CreateBackupCommand, DescribeBackupCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { BackupUnavailableError, createOnDemandBackup } from '../../src/aws/backup.js'
import type { WaitOptions } from '../../src/types.js'

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main-table/backup/01700000000000-abcdef12'
const ddbMock = mockClient(DynamoDBClient)
beforeEach(() => ddbMock.reset())
afterAll(() => ddbMock.restore())

/** A clock that moves only when the code sleeps, with the wait limits the executor uses for backups. */
function fakeTime(): WaitOptions & { slept: number[] } {
  let now = 0
  const slept: number[] = []
  return {
    now: () => now,
    sleep: async ms => void (slept.push(ms), (now += ms)),
    slept,
    maxWaitMs: 10 * 60_000,
    pollMs: 5000
  }
}

describe('createOnDemandBackup', () => {
  test('waits until the backup is AVAILABLE and returns its ARN', async () => {
    ddbMock.on(CreateBackupCommand).resolves({
      BackupDetails: {
        BackupArn: ARN,
        BackupName: 'n',
        BackupStatus: 'CREATING',
        BackupCreationDateTime: new Date(0),
        BackupType: 'USER' as const
      }
    })
    ddbMock
      .on(DescribeBackupCommand)
      .resolvesOnce({
        BackupDescription: {
          BackupDetails: {
            BackupArn: ARN,
            BackupName: 'n',
            BackupStatus: 'CREATING',
            BackupCreationDateTime: new Date(0),
            BackupType: 'USER' as const
          }
        }
      })
      .resolves({
        BackupDescription: {
          BackupDetails: {
            BackupArn: ARN,
            BackupName: 'n',
            BackupStatus: 'AVAILABLE',
            BackupSizeBytes: 1234,
            BackupCreationDateTime: new Date(0),
            BackupType: 'USER' as const
          }
        }
      })
    const t = fakeTime()
    const b = await createOnDemandBackup(
      new DynamoDBClient({ region: 'us-east-1' }),
      { table: 'pr-5-main-table', backupName: 'orphan-guard pr-5/main' },
      { ...t, pollMs: 2000 }
    )
    expect(b).toEqual({
      arn: ARN,
      name: 'n',
      status: 'AVAILABLE',
      sizeBytes: 1234,
      createdAt: '1970-01-01T00:00:00.000Z',
      // DescribeBackup's SourceTableDetails (absent in this answer).
      source: { tableName: null, tableArn: null, tableCreatedAt: null }
    })
    expect(t.slept).toEqual([2000])
    // Backup names allow [a-zA-Z0-9_.-] only.
    expect(ddbMock.commandCalls(CreateBackupCommand)[0]?.args[0].input).toEqual({
      TableName: 'pr-5-main-table',
      BackupName: 'orphan-guard-pr-5-main'
    })
  })

  test('gives up after the time limit with a human message naming the ARN', async () => {
    ddbMock.on(CreateBackupCommand).resolves({
      BackupDetails: {
        BackupArn: ARN,
        BackupName: 'n',
        BackupStatus: 'CREATING',
        BackupCreationDateTime: new Date(0),
        BackupType: 'USER' as const
      }
    })
    ddbMock.on(DescribeBackupCommand).resolves({
      BackupDescription: {
        BackupDetails: {
          BackupArn: ARN,
          BackupName: 'n',
          BackupStatus: 'CREATING',
          BackupCreationDateTime: new Date(0),
          BackupType: 'USER' as const
        }
      }
    })
    const t = fakeTime()
    await expect(
      createOnDemandBackup(
        new DynamoDBClient({ region: 'us-east-1' }),
        { table: 't', backupName: 'n' },
        { ...t, maxWaitMs: 60_000, pollMs: 5000 }
      )
    ).rejects.toThrow(`Backup ${ARN} of t is still CREATING after 60 s`)
    expect(t.slept.reduce((a, b) => a + b, 0)).toBe(60_000)
  })

  test('a denied CreateBackup says which permission is missing and that nothing was done', async () => {
    ddbMock.on(CreateBackupCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: dynamodb:CreateBackup'), {
        name: 'AccessDeniedException'
      })
    )
    const err = await createOnDemandBackup(
      new DynamoDBClient({ region: 'us-east-1' }),
      { table: 't', backupName: 'n' },
      fakeTime()
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackupUnavailableError)
    expect((err as Error).message).toMatch(
      /was denied .*grant dynamodb:CreateBackup and dynamodb:DescribeBackup/
    )
    expect((err as BackupUnavailableError).state).toMatch(/nothing destructive was done/)
  })
})
