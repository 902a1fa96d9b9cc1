/**
 * Which proxy, if any, a URL goes through, from the usual environment
 * variables (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, lower-case first as
 * curl does). Pure: the environment is passed in.
 */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  const proxy = pick(env, scheme === 'https' ? 'https_proxy' : 'http_proxy');
  if (!proxy) return undefined;
  if (bypassed(url, pick(env, 'no_proxy') ?? '')) return undefined;
  return proxy.includes('://') ? proxy : `http://${proxy}`;
}

function pick(env: Readonly<Record<string, string | undefined>>, lower: string): string | undefined {
  const v = env[lower] ?? env[lower.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/**
 * NO_PROXY: comma- or space-separated entries; `*` matches everything; an
 * entry matches the host itself and its subdomains (a leading dot is
 * optional); `host:port` entries match only that port.
 */
export function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.endsWith(']') && m[1]!.includes(':') === false) {
      entry = m[1]!;
      entryPort = m[2];
    }
    entry = entry.replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === entry || host.endsWith('.' + entry)) return true;
  }
  return false;
}
