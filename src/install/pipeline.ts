import { ioError } from '../core/errors.js';
import type { Txn } from '../installed/txn.js';

/** What a stage found and did. */
export interface StageReport {
  /** True when the stage changed the root (staging does not count). */
  changed: boolean;
  notes: string[];
}

/**
 * One step of a pipeline. `run` is idempotent and reports what it found;
 * `undo` reverts a (possibly partial) run; `commit` drops what was kept for
 * undo once every stage succeeded; `plan` says what run would do and touches nothing.
 */
export interface Stage<C> {
  name: string;
  run(ctx: C): Promise<StageReport>;
  undo?(ctx: C): Promise<void>;
  commit?(ctx: C): Promise<void>;
  plan(ctx: C): Promise<string[]>;
}

export interface PipelineResult {
  changed: boolean;
  reports: { stage: string; report: StageReport }[];
}

/**
 * Runs the stages in order. On a failure every stage begun (the failing one
 * included) is undone in reverse order, then the error is rethrown. With
 * `dryRun` only the plans run; each plan line is printed as `would …` (`note: …` lines as they are).
 */
export async function runPipeline<C>(
  stages: readonly Stage<C>[],
  ctx: C,
  opts: { dryRun: boolean; log: (stage: string, line: string) => void; txn?: Txn },
): Promise<PipelineResult> {
  const reports: PipelineResult['reports'] = [];
  if (opts.dryRun) {
    for (const s of stages) for (const line of await s.plan(ctx)) opts.log(s.name, line.startsWith('note: ') ? line : `would ${line}`);
    return { changed: false, reports };
  }
  const begun: Stage<C>[] = [];
  try {
    for (const s of stages) {
      begun.push(s);
      let report: StageReport;
      try {
        report = await s.run(ctx);
      } catch (err) {
        throw ioError(`${s.name} stage failed`, err);
      }
      for (const line of report.notes) opts.log(s.name, line);
      reports.push({ stage: s.name, report });
    }
    try {
      await opts.txn?.commit();
    } catch (err) {
      throw ioError('commit failed', err);
    }
  } catch (err) {
    for (const s of begun.reverse()) {
      try {
        await s.undo?.(ctx);
      } catch (undoErr) {
        opts.log(s.name, `warning: undo failed: ${(undoErr as Error).message}`);
      }
    }
    // The journal's rollback catches whatever a stage's own undo could not
    // (it is idempotent); if it fails too, the journal stays for the next run.
    try {
      await opts.txn?.rollback();
    } catch (rbErr) {
      opts.log('rollback', `warning: ${(rbErr as Error).message}; the next djbpkg command on this root finishes it`);
    }
    throw err;
  }
  for (const s of stages) {
    try {
      await s.commit?.(ctx);
    } catch (err) {
      opts.log(s.name, `warning: cleanup failed: ${(err as Error).message}`);
    }
  }
  try {
    await opts.txn?.end();
  } catch (err) {
    opts.log('commit', `warning: ${(err as Error).message}; the next djbpkg command on this root finishes it`);
  }
  return { changed: reports.some((r) => r.report.changed), reports };
}
