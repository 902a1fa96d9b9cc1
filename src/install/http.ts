import type { Agent } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import fetch from 'node-fetch';
import { proxyFor } from './proxy.js';

/** Time limits of one HTTP GET, in milliseconds. */
export interface HttpLimits {
  /** From the request until the response headers (connect, proxy, redirects). */
  connectMs: number;
  /** Longest silence while the body streams. */
  idleMs: number;
}

export const DEFAULT_LIMITS: HttpLimits = { connectMs: 30_000, idleMs: 60_000 };

/** Limits from `DJBPKG_FETCH_TIMEOUT_MS` and `DJBPKG_FETCH_IDLE_MS`, else the defaults. */
export function limitsFromEnv(env: Readonly<Record<string, string | undefined>>): HttpLimits {
  const num = (v: string | undefined, dflt: number): number => {
    const n = Number(v);
    return v !== undefined && Number.isFinite(n) && n > 0 ? n : dflt;
  };
  return {
    connectMs: num(env.DJBPKG_FETCH_TIMEOUT_MS, DEFAULT_LIMITS.connectMs),
    idleMs: num(env.DJBPKG_FETCH_IDLE_MS, DEFAULT_LIMITS.idleMs),
  };
}

/** A failure of the network or the server: the source is skipped, the next one tried. */
export class SourceFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceFailure';
  }
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Where the bytes come from after redirects. */
  finalUrl: string;
  contentLength: number | undefined;
  /** First byte position of a 206 response; undefined otherwise. */
  rangeStart: number | undefined;
  /** The server says it serves byte ranges (206 or `Accept-Ranges: bytes`). */
  rangesSupported: boolean;
  /** The body; each chunk re-arms the idle timer. Errors are SourceFailure. */
  chunks(): AsyncGenerator<Uint8Array>;
  /** Drops the connection without reading the body. */
  discard(): void;
}

/**
 * GET `url` with redirects followed, the proxy the environment names, raw
 * bytes (no content decoding) and the connect/idle limits. `rangeFrom` asks
 * for the bytes from that offset on. Network failures throw SourceFailure.
 */
export async function httpGet(
  url: string,
  opts: { env: Readonly<Record<string, string | undefined>>; limits: HttpLimits; rangeFrom?: number },
): Promise<HttpResponse> {
  const controller = new AbortController();
  let timedOut: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, why: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = why;
      controller.abort();
    }, ms);
  };
  const agents = new Map<string, Agent>();
  const agentFor = (u: URL): Agent | undefined => {
    const proxy = proxyFor(u, opts.env);
    if (!proxy) return undefined;
    const key = `${u.protocol}${proxy}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = u.protocol === 'https:' ? new HttpsProxyAgent(proxy) : new HttpProxyAgent(proxy);
      agents.set(key, agent);
    }
    return agent;
  };
  const headers: Record<string, string> = {
    'accept-encoding': 'identity',
    connection: 'close',
    'user-agent': 'djbpkg',
  };
  if (opts.rangeFrom !== undefined && opts.rangeFrom > 0) headers.range = `bytes=${opts.rangeFrom}-`;

  arm(opts.limits.connectMs, `no response within ${opts.limits.connectMs} ms`);
  let res;
  try {
    res = await fetch(url, { headers, redirect: 'follow', follow: 10, compress: false, signal: controller.signal, agent: agentFor });
  } catch (err) {
    clearTimeout(timer);
    throw new SourceFailure(timedOut ?? networkReason(err), { cause: err });
  }
  clearTimeout(timer);

  const lengthHeader = res.headers.get('content-length');
  const contentLength = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const rangeMatch = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  const body = res.body;
  return {
    status: res.status,
    statusText: res.statusText,
    finalUrl: res.url || url,
    contentLength,
    rangeStart: res.status === 206 && rangeMatch ? Number(rangeMatch[1]) : undefined,
    rangesSupported: res.status === 206 || /\bbytes\b/i.test(res.headers.get('accept-ranges') ?? ''),
    discard: () => {
      clearTimeout(timer);
      controller.abort();
    },
    async *chunks() {
      if (!body) return;
      const idle = `no data for ${opts.limits.idleMs} ms`;
      arm(opts.limits.idleMs, idle);
      try {
        for await (const chunk of body) {
          arm(opts.limits.idleMs, idle);
          yield chunk as Uint8Array;
        }
      } catch (err) {
        throw new SourceFailure(timedOut ?? networkReason(err, true), { cause: err });
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    },
  };
}

/** One short phrase for a network error; `inBody`: it happened while the body streamed. */
export function networkReason(err: unknown, inBody = false): string {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; type?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const closed = code === 'ERR_STREAM_PREMATURE_CLOSE' || /premature close/i.test(message);
  if (closed || (inBody && (code === 'ECONNRESET' || message === 'aborted'))) {
    return 'connection closed before the whole file arrived';
  }
  if (e.type === 'max-redirect') return 'too many redirects';
  if (/^E[A-Z0-9]+$/.test(code)) {
    const reason = /reason: (.*)$/.exec(message);
    return reason ? reason[1]! : code;
  }
  return message;
}
