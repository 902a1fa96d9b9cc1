import cliProgress from 'cli-progress';
import type { Output } from '../core/io.js';

/** Receives download progress; `stop` ends the display. */
export interface Progress {
  update(bytes: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

/**
 * A byte counter with rate drawn on `out`, only when it is a terminal;
 * otherwise nothing is drawn at all. `now` gives milliseconds.
 */
export function startProgress(out: Output | undefined, label: string, total: number | undefined, now: () => number): Progress {
  if (!out || !out.isTTY) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: out as unknown as NodeJS.WritableStream,
      format: total ? '{label} [{bar}] {percentage}% {done}/{all} {rate}' : '{label} {done} {rate}',
      hideCursor: false,
      clearOnComplete: false,
      fps: 10,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = now();
  const payload = (bytes: number): Record<string, string> => {
    const secs = Math.max((now() - started) / 1000, 0.001);
    return { label, done: formatBytes(bytes), all: total ? formatBytes(total) : '?', rate: `${formatBytes(bytes / secs)}/s` };
  };
  bar.start(total ?? 0, 0, payload(0));
  return {
    update: (bytes) => bar.update(bytes, payload(bytes)),
    stop: () => bar.stop(),
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
