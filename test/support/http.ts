/**
 * A real HTTP server on 127.0.0.1 (random port) with failure routes, and a
 * tiny forwarding proxy, for tests of anything that downloads.
 *
 *     const srv = await startServer();
 *     srv.route('/a.tar.gz', { kind: 'file', body });              // 200, Range honoured
 *     srv.route('/gone', { kind: 'status', status: 404 });
 *     srv.route('/old', { kind: 'redirect', to: '/a.tar.gz' });
 *     srv.route('/cut', [{ kind: 'cut', body, after: 100 }, { kind: 'file', body }]);  // 1st request cut, later ones whole
 *     ... srv.url + '/a.tar.gz' ...;  srv.count('/a.tar.gz');  srv.requests[0].headers.range
 *
 * A list of routes is served in order, one per request to that path; the
 * last one repeats. Unknown paths get 404. Servers and proxies started during
 * a test are closed after it (afterEach); pass `{ persistent: true }` when
 * starting one in beforeAll and close it yourself in afterAll.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach } from 'vitest';

export type Route =
  /** 200 with the body; `ranges: false` ignores Range headers and sends no Accept-Ranges. */
  | { kind: 'file'; body: Buffer; ranges?: boolean }
  /** A bare status with a short text body. */
  | { kind: 'status'; status: number }
  /** A redirect (default 302) to `to`, absolute or a path on this server. */
  | { kind: 'redirect'; to: string; status?: number }
  /**
   * Announces the whole length, sends `after` bytes (from the Range start if
   * any), waits `lingerMs` (default 100) so the client can read them, then
   * closes the connection.
   */
  | { kind: 'cut'; body: Buffer; after: number; ranges?: boolean; lingerMs?: number }
  /** Announces `length` in Content-Length but sends `body` and ends (a lying server). */
  | { kind: 'wrong-length'; body: Buffer; length: number }
  /** Sends headers and `after` bytes, then goes silent with the connection open. */
  | { kind: 'stall'; body: Buffer; after: number }
  /** Sends the body in `chunk`-byte pieces every `intervalMs` ms. */
  | { kind: 'slow'; body: Buffer; chunk: number; intervalMs: number; ranges?: boolean }
  /** Accepts the request and never answers (not even headers). */
  | { kind: 'hang' };

export interface LoggedRequest {
  method: string;
  /** The request target as sent: a path, or an absolute URI when sent to a proxy. */
  url: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: LoggedRequest[];
  /** Serves `path` with a route, or a list of routes in request order. */
  route(path: string, route: Route | Route[]): void;
  /** Requests received for `path`, or in all when omitted. */
  count(path?: string): number;
  close(): Promise<void>;
}

export interface TestProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Absolute URIs the proxy forwarded (plain HTTP) or `CONNECT host:port` lines. */
  readonly requests: string[];
  close(): Promise<void>;
}

const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/**
 * Listens on 127.0.0.1 (a free port), tracking every connection in `sockets`.
 * `close` runs `cleanup`, destroys the open connections and stops the server;
 * calling it again returns the same promise.
 */
async function listenLoopback(
  server: http.Server,
  sockets: Set<Socket>,
  cleanup: () => void = () => {},
): Promise<{ port: number; close(): Promise<void> }> {
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        cleanup();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** Starts a server on 127.0.0.1 with the given routes. */
export async function startServer(routes: Record<string, Route | Route[]> = {}, opts: { persistent?: boolean } = {}): Promise<TestServer> {
  const table = new Map<string, Route[]>();
  const served = new Map<string, number>();
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', path, headers: req.headers });
    const list = table.get(path);
    if (!list) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const n = served.get(path) ?? 0;
    served.set(path, n + 1);
    serve(list[Math.min(n, list.length - 1)]!, req, res, timers);
  });
  const { port, close } = await listenLoopback(server, sockets, () => {
    for (const t of timers) clearTimeout(t);
  });
  const srv: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    route(path, route) {
      table.set(path, Array.isArray(route) ? route : [route]);
      served.delete(path);
    },
    count(path) {
      return path === undefined ? requests.length : requests.filter((r) => r.path === path).length;
    },
    close,
  };
  for (const [p, r] of Object.entries(routes)) srv.route(p, r);
  if (!opts.persistent) open.push(srv);
  return srv;
}

/** The `[start, end]` (inclusive) a `Range: bytes=N-[M]` header asks for, if valid. */
function rangeOf(header: string | undefined, length: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), length - 1) : length - 1;
  if (start >= length || start > end) return 'unsatisfiable';
  return [start, end];
}

function serve(route: Route, req: http.IncomingMessage, res: http.ServerResponse, timers: Set<NodeJS.Timeout>): void {
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  switch (route.kind) {
    case 'status':
      res.writeHead(route.status, { 'content-type': 'text/plain' }).end(`status ${route.status}\n`);
      return;
    case 'redirect':
      res.writeHead(route.status ?? 302, { location: route.to }).end();
      return;
    case 'hang':
      return;
    case 'wrong-length':
      res.writeHead(200, { 'content-length': String(route.length) });
      res.write(route.body);
      // Ends the socket without the promised bytes.
      res.socket?.end();
      return;
    case 'stall':
      res.writeHead(200, { 'content-length': String(route.body.length) });
      res.write(route.body.subarray(0, route.after));
      return;
    case 'file':
    case 'cut':
    case 'slow': {
      const body = route.body;
      const ranges = route.ranges !== false;
      const headers: http.OutgoingHttpHeaders = {};
      if (ranges) headers['accept-ranges'] = 'bytes';
      let start = 0;
      let end = body.length - 1;
      let status = 200;
      const r = ranges ? rangeOf(req.headers.range, body.length) : undefined;
      if (r === 'unsatisfiable') {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      if (r) {
        [start, end] = r;
        status = 206;
        headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
      }
      const part = body.subarray(start, end + 1);
      headers['content-length'] = String(part.length);
      headers['content-type'] = 'application/octet-stream';
      res.writeHead(status, headers);
      if (route.kind === 'file') {
        res.end(part);
      } else if (route.kind === 'cut') {
        // FIN, not RST, after a pause: the client reads the `after` bytes before the end.
        res.write(part.subarray(0, route.after), () => later(route.lingerMs ?? 100, () => res.socket?.end()));
      } else {
        let at = 0;
        const step = (): void => {
          if (at >= part.length) {
            res.end();
            return;
          }
          res.write(part.subarray(at, at + route.chunk));
          at += route.chunk;
          later(route.intervalMs, step);
        };
        step();
      }
      return;
    }
  }
}

/**
 * A forwarding HTTP proxy on 127.0.0.1: plain-HTTP requests in absolute-URI
 * form are forwarded and logged; CONNECT tunnels are logged and opened.
 */
export async function startProxy(opts: { persistent?: boolean } = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI required\n');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const up = http.request(
      { host: target.hostname, port: target.port || 80, path: target.pathname + target.search, method: req.method, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('bad gateway\n');
      else res.destroy();
    });
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    requests.push(`CONNECT ${req.url ?? ''}`);
    const [host, port] = (req.url ?? '').split(':');
    const up = net.connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  const { port, close } = await listenLoopback(server, sockets);
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close,
  };
  if (!opts.persistent) open.push(proxy);
  return proxy;
}
