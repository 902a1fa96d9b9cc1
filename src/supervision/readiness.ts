import fs from 'node:fs';
import net from 'node:net';
import { O_CLOEXEC, pipe2 } from '../posix/index.js';
import { errcode, errstr } from '../djb/errstr.js';

/**
 * Readiness notification, s6's convention: a service directory may hold
 * `notification-fd`, a decimal descriptor number (3 or more). supervise then
 * gives `./run` the write end of a pipe on that descriptor; the first
 * newline written to it means "ready". supervise reads nothing more: it
 * closes its end after the newline (a later write gets EPIPE, as under s6).
 */
export const NOTIFICATION_FD_FILE = 'notification-fd';
/** Highest descriptor accepted in notification-fd. */
export const MAX_NOTIFICATION_FD = 255;
/** Bytes read before giving up on a newline. */
const MAX_READ = 4096;

/** The declared descriptor, or 0 when none; a bad file is a warning line (returned) and no readiness. */
export function notificationFd(serviceDir: string): { fd: number; warning?: string } {
  let text: string;
  try {
    text = fs.readFileSync(`${serviceDir}/${NOTIFICATION_FD_FILE}`, 'latin1');
  } catch (err) {
    if (errcode(err) === 'ENOENT') return { fd: 0 };
    return { fd: 0, warning: `unable to read ${NOTIFICATION_FD_FILE}: ${errstr(err)}` };
  }
  const t = text.trim();
  const n = Number(t);
  if (!/^\d+$/.test(t) || n < 3 || n > MAX_NOTIFICATION_FD) {
    return { fd: 0, warning: `${NOTIFICATION_FD_FILE} must hold a descriptor number from 3 to ${MAX_NOTIFICATION_FD}, not ${JSON.stringify(t.slice(0, 20))}` };
  }
  return { fd: n };
}

/**
 * The pipe of one run: `writeFd` goes to the child (the caller closes it
 * after spawning); `onReady` is called once, at the first newline.
 */
export class ReadinessPipe {
  readonly writeFd: number;
  private socket: net.Socket | undefined;
  private seen = 0;

  constructor(onReady: () => void) {
    const [r, w] = pipe2(O_CLOEXEC);
    this.writeFd = w;
    try {
      this.socket = new net.Socket({ fd: r, readable: true, writable: false });
    } catch (err) {
      fs.closeSync(r);
      fs.closeSync(w);
      throw err;
    }
    this.socket.on('error', () => this.close());
    this.socket.on('end', () => this.close());
    this.socket.on('data', (chunk: Buffer) => {
      this.seen += chunk.length;
      if (chunk.includes(0x0a)) {
        this.close();
        onReady();
      } else if (this.seen > MAX_READ) this.close();
    });
  }

  /** Closes the write end held for the spawn (the child has its own copy). */
  closeWriteEnd(): void {
    try {
      fs.closeSync(this.writeFd);
    } catch {
      // Already closed.
    }
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
