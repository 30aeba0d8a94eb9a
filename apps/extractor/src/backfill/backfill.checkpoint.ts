import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BackfillCheckpointError } from '../extractor.errors';

/** Progress of one backfill job, rewritten after every page whose records are safely in the spool. */
export const BackfillCheckpointSchema = z.strictObject({
  version: z.literal(1),
  productId: z.string(),
  granularity: z.number().int(),
  from: z.string(),
  to: z.string(),
  /** Index of the first page not yet written. */
  nextPage: z.number().int().nonnegative(),
  pagesTotal: z.number().int().nonnegative(),
  candles: z.number().int().nonnegative(),
  updatedAt: z.string(),
});
export type BackfillCheckpoint = z.infer<typeof BackfillCheckpointSchema>;

/**
 * One checkpoint file per job (product, granularity, range) in `dir`, so different jobs never resume each other.
 * Writes are atomic (temp file, fsync, rename): a crash leaves the old checkpoint or the new one, never half of one.
 */
export class CheckpointFile {
  readonly path: string;

  constructor(dir: string, job: { productId: string; granularity: number; from: string; to: string }) {
    const safe = (s: string) => s.replace(/[^A-Za-z0-9.-]/g, '_');
    this.path = join(dir, `${safe(job.productId)}-${job.granularity}-${safe(job.from)}-${safe(job.to)}.json`);
  }

  /** The saved progress, or null when the job has none. A damaged file is an error naming it (never ignored). */
  load(): BackfillCheckpoint | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new BackfillCheckpointError(this.path, (error as Error).message, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new BackfillCheckpointError(this.path, 'not JSON; delete it to start the job over', { cause });
    }
    const parsed = BackfillCheckpointSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BackfillCheckpointError(
        this.path,
        `${issue?.path.join('.')}: ${issue?.message}; delete it to start the job over`,
      );
    }
    return parsed.data;
  }

  save(checkpoint: BackfillCheckpoint): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify(checkpoint)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  /** The job is complete: nothing to resume. */
  remove(): void {
    rmSync(this.path, { force: true });
  }
}
