import os from 'node:os';

/**
 * Bounds how many log services start at once under svscan. A hosted
 * logger's `./run` is a whole Node process until it hands over (about 10 MB
 * private for a fraction of a second); at boot svscan would otherwise start
 * every one of them together. A slot is held from the start of a log
 * service's first `./run` until its hand-over is settled (see HostedLog),
 * and never longer than SLOT_MS.
 */
export const SLOT_MS = 3000;

export class StartGate {
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly limit = Math.max(4, 2 * os.availableParallelism())) {}

  /** Runs `start` now or when a slot frees; `start` gets the release for its slot (idempotent). */
  admit(start: (release: () => void) => void): void {
    if (this.inFlight < this.limit) this.run(start);
    else this.queue.push(() => this.run(start));
  }

  private run(start: (release: () => void) => void): void {
    this.inFlight++;
    let held = true;
    const timer = setTimeout(() => release(), SLOT_MS);
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.inFlight--;
      this.queue.shift()?.();
    };
    start(release);
  }
}
