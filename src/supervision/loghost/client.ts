import fs from 'node:fs';
import net from 'node:net';
import { execve, prepareForExec, setCloexec } from '../../posix/index.js';
import {
  HANDOVER_FD,
  LineChannel,
  LOGHOST_FD_ENV,
  PLACEHOLDER_ARGS,
  PLACEHOLDER_ARGV0,
  placeholderPath,
  type ReplyKind,
} from './protocol.js';

/** multilog's side of the hand-over (see protocol.ts). */
export class HostOffer {
  private constructor(private readonly channel: LineChannel) {}

  /**
   * Offers this multilog to the svscan that started it. Undefined when there
   * is no svscan asking (no channel), no placeholder, or svscan declines;
   * otherwise the offer with svscan's answer.
   */
  static async make(env: NodeJS.ProcessEnv, argv: string[], cwd: string): Promise<{ offer: HostOffer; reply: 'start' | 'resume' } | undefined> {
    const named = env[LOGHOST_FD_ENV];
    delete env[LOGHOST_FD_ENV];
    if (named !== String(HANDOVER_FD) || placeholderPath() === undefined) return undefined;
    try {
      if (!fs.fstatSync(HANDOVER_FD).isSocket()) return undefined;
    } catch {
      return undefined;
    }
    const socket = new net.Socket({ fd: HANDOVER_FD, readable: true, writable: true });
    const channel = new LineChannel(socket);
    channel.send({ hello: 1, pid: process.pid, argv, cwd });
    const answer = (await channel.next()) as { reply?: ReplyKind } | undefined;
    const reply = answer?.reply;
    if (reply === 'start' || reply === 'resume') return { offer: new HostOffer(channel), reply };
    socket.destroy();
    return undefined;
  }

  /** Withdraws the offer (start-up failed): svscan hosts nothing. */
  withdraw(): void {
    this.channel.socket.destroy();
  }

  /**
   * Tells svscan the directories are ready, then becomes the placeholder:
   * fd 0 (the pipe), 1, 2 and the held locks stay open. Never returns.
   */
  async handOver(keepFds: number[]): Promise<never> {
    this.channel.send({ ready: 1 });
    await new Promise<void>((resolve) => this.channel.socket.end(resolve));
    for (const fd of keepFds) setCloexec(fd, false);
    setCloexec(HANDOVER_FD, true);
    prepareForExec(keepFds);
    execve(placeholderPath()!, [PLACEHOLDER_ARGV0, ...PLACEHOLDER_ARGS], {});
  }
}
