/**
 * Restore checkpoint: where a restore got to, so that a restore killed at any point (SIGKILL
 * included) continues where it stopped. Written atomically (tmp file + rename), so a reader
 * sees the previous or the next checkpoint, never half of one.
 *
 * The position is a low-water mark: every item before (fileIndex, offset) is known to be written.
 * Batches complete out of order; items after the mark may be written too (restore.ts bounds how
 * far: MAX_BATCHES_AHEAD). Re-sending them on resume is safe because the restore only issues
 * PutRequests of whole items, which are idempotent: writing the same item twice leaves the same
 * item (assuming nobody else writes the same keys meanwhile — the restore target is a table
 * nobody uses yet; verify checks it after).
 *
 * A checkpoint belongs to one backup (`sourceId`) and one target table *instance* (`target`: its
 * ARN and creation time): a table deleted and created again under the same name is another
 * instance, and a restore into it starts over. `state` says how far the restore got: `writing`,
 * `written` (every item written, not yet verified) or `verified` (count and digest checked after
 * the writes). Only `verified` means done: a failed verification leaves `written`, and running
 * the restore again verifies again.
 */
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from './manifest.js'

export const CHECKPOINT_FORMAT = 'dynamodb-orphan-guard/restore-checkpoint@2'

export type CheckpointState = 'writing' | 'written' | 'verified'

/** The table instance a restore writes into. */
export interface TargetInstance {
  arn: string
  /** DescribeTable's CreationDateTime, ISO 8601. */
  createdAt: string
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT
  table: string
  target: TargetInstance
  /** Identity of the backup: manifest digest + file hashes, or the legacy file's sha256. */
  sourceId: string
  /** All items of files before `fileIndex`, and the first `offset` items of that file, are written. */
  fileIndex: number
  offset: number
  itemsDone: number
  state: CheckpointState
  updatedAt: string
}

export function sameInstance(a: TargetInstance, b: TargetInstance): boolean {
  return a.arn === b.arn && a.createdAt === b.createdAt
}

/** The checkpoint at `path`; null when there is none or it is not one this version can continue. */
export async function readCheckpoint(path: string): Promise<Checkpoint | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null
    throw err
  }
  try {
    const c = JSON.parse(text) as Partial<Checkpoint>
    if (
      c.format !== CHECKPOINT_FORMAT ||
      typeof c.fileIndex !== 'number' ||
      typeof c.offset !== 'number' ||
      typeof c.itemsDone !== 'number' ||
      typeof c.target?.arn !== 'string' ||
      typeof c.target.createdAt !== 'string' ||
      (c.state !== 'writing' && c.state !== 'written' && c.state !== 'verified')
    )
      return null
    return c as Checkpoint
  } catch {
    // Cannot happen with atomic writes unless someone edited it; starting over is safe (idempotent puts).
    return null
  }
}

export async function writeCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(c)}\n`)
}
