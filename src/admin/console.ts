/**
 * The web console, served by the AdminServer under /console (ours; ZooKeeper 3.8 has
 * none): the page and its assets (built by Vite from web/console into dist/console,
 * shipped in the package, served from here: no CDN, no network), and its JSON API.
 *
 *   GET  /console/                        the page (sets the CSRF cookie, puts the token in a meta tag)
 *   GET  /console/assets/<file>           its scripts and styles
 *   GET  /console/api/info                this node, read-only or not
 *   GET  /console/api/overview            every member of the ensemble (console-overview.ts)
 *   GET  /console/api/events              the same, as Server-Sent Events, twice a second
 *   GET  /console/api/children?path=&offset=&limit=   one page of a node's children, sorted
 *   GET  /console/api/node?path=          data (base64), stat, ACL, ephemeral owner, watches
 *   POST /console/api/node                create {path, data, mode, acl}
 *   PUT  /console/api/node                set {path, data, version}
 *   DELETE /console/api/node?path=&version=
 *   GET  /console/api/sessions            every member's connections (cons)
 *
 * The tree is read and written as any client does: through a session of our client
 * (src/client) on this node's client port, with the credentials the page sends in the
 * X-ZK-Auth header ("digest user:password"; none: an anonymous session) added by
 * addauth, so ACLs hold exactly as for any client. Sessions are kept per credential and
 * closed after a minute unused.
 *
 * Cross-site forgery: a state-changing request must carry the X-ZK-Console-Token header
 * equal to the zkconsole cookie (SameSite=Strict, HttpOnly, set with the page), a JSON
 * body, and an Origin (when the browser sends one) naming this very host. In read-only
 * mode (admin.console.readOnly=true) they are all refused. Bound to loopback, the console
 * answers only requests whose Host is a loopback address or localhost (DNS rebinding).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateMode, KeeperException, ZooKeeper, type ACL, type Stat } from '../client/index.js';
import type { ServerReport } from '../server/four-letter-words.js';
import type { Logger } from '../server/log.js';
import type { ZooKeeperServer } from '../server/zk-server.js';
import { fetchJson, memberAddresses, OverviewSource, type EnsembleView } from './console-overview.js';

export const CONSOLE_PATH = '/console';
const COOKIE = 'zkconsole';
const TOKEN_HEADER = 'x-zk-console-token';
const AUTH_HEADER = 'x-zk-auth';
const SESSION_IDLE_MS = 60_000;
const MAX_SESSIONS = 32;
const PAGE_MAX = 1000;
const BODY_MAX = 4 * 1024 * 1024;
/** How often the stream sends the overview: a leader change shows within about this much after it happens. */
/** Child lists this long or longer are kept for paging, at most this many of them. */
const CHILD_CACHE_MIN = 1000;
const CHILD_CACHE_ENTRIES = 8;
const EVENT_INTERVAL_MS = 500;

/** Where the built page is: dist/console beside dist/src (this file is dist/src/admin/console.js). */
export function defaultAssetsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');
}

export interface ConsoleOptions {
  readonly readOnly: boolean;
  readonly assetsDir: string;
  /** The AdminServer's command URL (peers' monitor is asked there). */
  readonly commandUrl: string;
  /** The AdminServer's bound port, once listening. */
  readonly adminPort: () => number | null;
  /**
   * Bound to loopback: answer only requests whose Host is a loopback address or
   * localhost, so that a web page whose name was rebound to 127.0.0.1 (DNS rebinding)
   * cannot read the console as its own origin.
   */
  readonly loopbackHostsOnly?: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface PooledSession {
  zk: Promise<ZooKeeper>;
  lastUsed: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html;charset=utf-8',
  '.js': 'text/javascript;charset=utf-8',
  '.css': 'text/css;charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

export class WebConsole {
  readonly #overview: OverviewSource;
  readonly #sessions = new Map<string, PooledSession>();
  readonly #streams = new Set<http.ServerResponse>();
  readonly #childCache = new Map<string, { pzxid: number; cversion: number; aversion: number; sorted: string[] }>();
  #ticker: NodeJS.Timeout | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(
    readonly zk: ZooKeeperServer,
    readonly report: ServerReport,
    readonly options: ConsoleOptions,
    readonly log: Logger,
  ) {
    this.#overview = new OverviewSource(zk, report, options.adminPort, options.commandUrl);
    if (!existsSync(path.join(options.assetsDir, 'index.html'))) {
      log.warn('WebConsole', `The console's page is missing from ${options.assetsDir} (index.html): /console answers 503 until it is built with npm run build`);
    }
  }

  /** Whether a request path belongs to the console. */
  static owns(pathname: string): boolean {
    return pathname === CONSOLE_PATH || pathname.startsWith(`${CONSOLE_PATH}/`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#ticker = null;
    this.#sweeper = null;
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    this.#childCache.clear();
    await Promise.all(all.map(async (s) => (await s.zk.catch(() => null))?.close()));
  }

  async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const method = req.method ?? 'GET';
    try {
      const p = url.pathname;
      if (this.options.loopbackHostsOnly === true && !loopbackHost(req.headers.host)) {
        throw new HttpError(403, 'HOST', `Host ${req.headers.host ?? '(none)'} is not a loopback address: this console answers only at 127.x.x.x, [::1] or localhost`);
      }
      if (p === CONSOLE_PATH) return redirect(res, `${CONSOLE_PATH}/`);
      if (p === `${CONSOLE_PATH}/` || p === `${CONSOLE_PATH}/index.html`) return this.#page(req, res);
      if (p.startsWith(`${CONSOLE_PATH}/assets/`)) return this.#asset(method, p.slice(`${CONSOLE_PATH}/assets/`.length), res);
      if (!p.startsWith(`${CONSOLE_PATH}/api/`)) throw new HttpError(404, 'NOT_FOUND', `Nothing at ${p}; the console is at ${CONSOLE_PATH}/`);
      const api = p.slice(`${CONSOLE_PATH}/api/`.length);
      if (method !== 'GET' && method !== 'HEAD') this.#checkChange(req);
      if (api === 'events' && method === 'GET') return this.#events(req, res);
      const answer = await this.#api(method, api, url.searchParams, req);
      json(res, 200, answer);
    } catch (e) {
      const err = toHttpError(e);
      if (err.status >= 500) this.log.warn('WebConsole', `${method} ${url.pathname} failed: ${(e as Error).stack ?? String(e)}`);
      json(res, err.status, { error: err.code, message: err.message });
    }
  }

  // ---- the page and its assets ------------------------------------------------------------

  #page(req: http.IncomingMessage, res: http.ServerResponse): void {
    const file = path.join(this.options.assetsDir, 'index.html');
    let html: string;
    try {
      html = readFileSync(file, 'utf8');
    } catch {
      throw new HttpError(503, 'NOT_BUILT', `The console's page is missing (${file}); build it with npm run build`);
    }
    const token = readCookie(req, COOKIE) ?? randomBytes(24).toString('base64url');
    const meta = `<meta name="zk-console" content="${escapeAttr(JSON.stringify({ token, readOnly: this.options.readOnly }))}">`;
    html = html.replace('<!--zk-console-meta-->', meta);
    const body = Buffer.from(html, 'utf8');
    res.writeHead(200, {
      'content-type': 'text/html;charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      'set-cookie': `${COOKIE}=${token}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict`,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  #asset(method: string, name: string, res: http.ServerResponse): void {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'METHOD', `${method} is not allowed on assets`);
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) throw new HttpError(404, 'NOT_FOUND', `No asset ${name}`);
    const file = path.join(this.options.assetsDir, 'assets', name);
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      body = readFileSync(file);
    } catch {
      throw new HttpError(404, 'NOT_FOUND', `No asset ${name}`);
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream',
      'content-length': String(body.length),
      // Vite names assets by content hash.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  // ---- CSRF ---------------------------------------------------------------------------------

  #checkChange(req: http.IncomingMessage): void {
    if (this.options.readOnly) {
      throw new HttpError(403, 'READ_ONLY', 'The console is read-only (admin.console.readOnly=true in zoo.cfg): it does not change the tree');
    }
    const cookie = readCookie(req, COOKIE);
    const header = req.headers[TOKEN_HEADER];
    if (cookie === null || typeof header !== 'string' || !sameSecret(cookie, header)) {
      throw new HttpError(403, 'CSRF', 'Missing or wrong console token: reload the console page and try again');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        host = '';
      }
      if (host !== req.headers.host) throw new HttpError(403, 'CSRF', `Cross-origin request from ${origin} refused: the console only accepts changes from its own page`);
    } else if (origin === 'null') {
      throw new HttpError(403, 'CSRF', 'Request from an opaque origin refused');
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, 'CSRF', `Cross-site request (${String(site)}) refused`);
  }

  // ---- the API ------------------------------------------------------------------------------

  async #api(method: string, api: string, q: URLSearchParams, req: http.IncomingMessage): Promise<unknown> {
    switch (`${method} ${api}`) {
      case 'GET info':
        return { myId: memberAddresses(this.zk).myId, readOnly: this.options.readOnly, version: this.report.fullVersion, standalone: this.zk.peer === null };
      case 'GET overview':
        return this.#overview.view();
      case 'GET sessions':
        return this.#connections();
      case 'GET children':
        return this.#children(req, q);
      case 'GET node':
        return this.#node(req, q);
      case 'POST node':
        return this.#create(req, await readJson(req));
      case 'PUT node':
        return this.#set(req, await readJson(req));
      case 'DELETE node':
        return this.#delete(req, q);
      default:
        throw new HttpError(404, 'NOT_FOUND', `No console API ${method} ${api}`);
    }
  }

  async #children(req: http.IncomingMessage, q: URLSearchParams): Promise<unknown> {
    const p = pathParam(q);
    const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(q, 'limit', 200, 1, PAGE_MAX);
    const filter = q.get('filter') ?? '';
    const zk = await this.#session(req);
    // Paging through a big node re-reads its list only when it changed (its pzxid, cversion,
    // or its ACL: aversion), checked with an exists; the list is kept per credential, as
    // read with it.
    const key = `${sessionKey(req)}\u0000${p}`;
    let cached = this.#childCache.get(key);
    if (cached !== undefined) {
      const now = await zk.exists(p);
      if (now === null || now.pzxid !== cached.pzxid || now.cversion !== cached.cversion || now.aversion !== cached.aversion) cached = undefined;
    }
    if (cached === undefined) {
      const { children, stat } = await zk.getChildren(p, { stat: true });
      cached = { pzxid: stat.pzxid, cversion: stat.cversion, aversion: stat.aversion, sorted: children.sort() };
      if (children.length >= CHILD_CACHE_MIN) {
        this.#childCache.set(key, cached);
        if (this.#childCache.size > CHILD_CACHE_ENTRIES) this.#childCache.delete(this.#childCache.keys().next().value!);
      }
    }
    let names = cached.sorted;
    if (filter !== '') names = names.filter((n) => n.includes(filter));
    return { path: p, total: names.length, numChildren: cached.sorted.length, offset, limit, children: names.slice(offset, offset + limit) };
  }

  async #node(req: http.IncomingMessage, q: URLSearchParams): Promise<unknown> {
    const p = pathParam(q);
    const zk = await this.#session(req);
    const [{ acl }, { data, stat }] = await Promise.all([zk.getACL(p), zk.getData(p)]);
    return this.#nodeJson(p, stat, acl, data);
  }

  #nodeJson(p: string, stat: Stat, acl: readonly ACL[] | null, data: Buffer | null): unknown {
    const watchers = this.zk.db.tree.watchesByPath().get(p) ?? [];
    return {
      path: p,
      data: data === null ? null : data.toString('base64'),
      stat: statJson(stat),
      acl: acl?.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: a.perms, permString: permString(a.perms) })) ?? null,
      ephemeralOwner: stat.ephemeralOwner === 0n ? null : `0x${BigInt.asUintN(64, stat.ephemeralOwner).toString(16)}`,
      dataWatches: watchers.length,
      watchingSessions: watchers.map((w) => `0x${BigInt.asUintN(64, w.sessionId ?? 0n).toString(16)}`),
    };
  }

  async #create(req: http.IncomingMessage, body: Record<string, unknown>): Promise<unknown> {
    const p = str(body, 'path');
    const data = decodeData(body);
    const modeName = typeof body['mode'] === 'string' ? body['mode'] : 'PERSISTENT';
    const mode = (CreateMode as Record<string, number>)[modeName];
    if (mode === undefined || modeName.includes('TTL')) {
      throw new HttpError(400, 'BAD_REQUEST', `Unknown create mode ${modeName}: one of PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL, CONTAINER`);
    }
    const acl = typeof body['acl'] === 'string' && body['acl'].trim() !== '' ? parseAcl(body['acl']) : undefined;
    const zk = await this.#session(req);
    const created = await zk.create2(p, data, { mode: mode as CreateMode, ...(acl !== undefined ? { acl } : {}) });
    return { path: created.path, stat: statJson(created.stat) };
  }

  async #set(req: http.IncomingMessage, body: Record<string, unknown>): Promise<unknown> {
    const p = str(body, 'path');
    const version = typeof body['version'] === 'number' ? body['version'] : -1;
    const zk = await this.#session(req);
    const stat = await zk.setData(p, decodeData(body), version);
    return { path: p, stat: statJson(stat) };
  }

  async #delete(req: http.IncomingMessage, q: URLSearchParams): Promise<unknown> {
    const p = pathParam(q);
    const version = intParam(q, 'version', -1, -1, 2 ** 31 - 1);
    const zk = await this.#session(req);
    await zk.delete(p, version);
    return { path: p, deleted: true };
  }

  async #connections(): Promise<unknown> {
    const { myId, members } = memberAddresses(this.zk);
    const port = this.options.adminPort();
    const base = this.options.commandUrl.replace(/\/+$/, '');
    const out = await Promise.all(
      members.map(async (m) => {
        if (m.id === myId) {
          const list = this.report.connectionInfos(this.zk, null).map((c) => ({
            remote: `${c.remoteAddress}:${c.remotePort}`,
            sessionId: c.sessionId === 0n ? null : `0x${BigInt.asUintN(64, c.sessionId).toString(16)}`,
            sessionTimeout: c.sessionTimeout,
            outstandingRequests: c.outstandingRequests,
            packetsReceived: c.packetsReceived,
            packetsSent: c.packetsSent,
            lastOperation: c.lastOperation,
            established: c.established,
            minLatency: c.minLatency,
            avgLatency: c.avgLatency,
            maxLatency: c.maxLatency,
          }));
          return { id: m.id, host: m.host, clientPort: m.clientPort, reachable: true, connections: list };
        }
        const answer = port === null ? null : ((await fetchJson(m.host, port, `${base}/connections`)) as { connections?: Array<Record<string, unknown>> } | null);
        if (answer === null || !Array.isArray(answer.connections)) return { id: m.id, host: m.host, clientPort: m.clientPort, reachable: false, connections: [] };
        return {
          id: m.id,
          host: m.host,
          clientPort: m.clientPort,
          reachable: true,
          connections: answer.connections.map((c) => ({
            remote: c['remote_socket_address'],
            sessionId: typeof c['session_id'] === 'number' || typeof c['session_id'] === 'string' ? (BigInt(c['session_id']) === 0n ? null : `0x${BigInt.asUintN(64, BigInt(c['session_id'])).toString(16)}`) : null,
            sessionTimeout: c['session_timeout'],
            outstandingRequests: c['outstanding_requests'],
            packetsReceived: c['packets_received'],
            packetsSent: c['packets_sent'],
            lastOperation: c['last_operation'],
            established: c['established'],
            minLatency: c['min_latency'],
            avgLatency: c['avg_latency'],
            maxLatency: c['max_latency'],
          })),
        };
      }),
    );
    return { myId, members: out };
  }

  // ---- the stream ---------------------------------------------------------------------------

  #events(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream;charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    this.#streams.add(res);
    const last = this.#overview.last;
    if (last !== null) send(res, last);
    req.on('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0 && this.#ticker !== null) {
        clearInterval(this.#ticker);
        this.#ticker = null;
      }
    });
    void this.#tick();
    if (this.#ticker === null && !this.#stopped) this.#ticker = setInterval(() => void this.#tick(), EVENT_INTERVAL_MS);
  }

  async #tick(): Promise<void> {
    if (this.#streams.size === 0) return;
    let view: EnsembleView;
    try {
      view = await this.#overview.view();
    } catch (e) {
      this.log.warn('WebConsole', `Ensemble overview failed: ${(e as Error).message}`);
      return;
    }
    for (const res of this.#streams) send(res, view);
  }

  // ---- client sessions ----------------------------------------------------------------------

  /** A session with the request's credentials (X-ZK-Auth: "digest user:password"), reused while in use. */
  async #session(req: http.IncomingMessage): Promise<ZooKeeper> {
    const raw = req.headers[AUTH_HEADER];
    const auth = typeof raw === 'string' ? raw.trim() : '';
    let authInfo: Array<{ scheme: string; auth: string }> = [];
    if (auth !== '') {
      const m = /^([a-z0-9]+) (.+)$/i.exec(auth);
      if (m === null || m[1]!.toLowerCase() !== 'digest' || !m[2]!.includes(':')) {
        throw new HttpError(400, 'BAD_AUTH', 'Credentials must be "digest user:password" (the super user too: digest super:<password>)');
      }
      authInfo = [{ scheme: 'digest', auth: m[2]! }];
    }
    const key = sessionKey(req);
    const now = performance.now(); // idle time is an interval: monotonic
    let s = this.#sessions.get(key);
    if (s !== undefined) {
      const zk = await s.zk.catch(() => null);
      if (zk !== null && zk.state !== 'Expired' && zk.state !== 'Closed' && zk.state !== 'AuthFailed') {
        s.lastUsed = now;
        return zk;
      }
      this.#sessions.delete(key);
    }
    if (this.#sessions.size >= MAX_SESSIONS) this.#closeOldest();
    const a = this.zk.clientAddress;
    const host = a.host === '0.0.0.0' || a.host === '::' || a.host === '' ? '127.0.0.1' : a.host;
    const connectString = `${host.includes(':') ? `[${host}]` : host}:${a.port}`;
    s = { zk: ZooKeeper.connect(connectString, { sessionTimeoutMs: 30_000, connectTimeoutMs: 5000, authInfo, requestTimeoutMs: 10_000 }), lastUsed: now };
    this.#sessions.set(key, s);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(() => this.#sweep(), 10_000);
      this.#sweeper.unref();
    }
    try {
      return await s.zk;
    } catch (e) {
      this.#sessions.delete(key);
      throw new HttpError(503, 'NO_SESSION', `Could not open a ZooKeeper session on ${connectString}: ${(e as Error).message}. The node may be between leaders; try again in a moment`);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const [key, s] of this.#sessions) {
      if (now - s.lastUsed > SESSION_IDLE_MS) {
        this.#sessions.delete(key);
        void s.zk.then((zk) => zk.close()).catch(() => undefined);
      }
    }
  }

  #closeOldest(): void {
    let oldest: [string, PooledSession] | null = null;
    for (const e of this.#sessions) if (oldest === null || e[1].lastUsed < oldest[1].lastUsed) oldest = e;
    if (oldest === null) return;
    this.#sessions.delete(oldest[0]);
    void oldest[1].zk.then((zk) => zk.close()).catch(() => undefined);
  }
}

// ---- helpers ------------------------------------------------------------------------------

function send(res: http.ServerResponse, view: EnsembleView): void {
  res.write(`event: overview\ndata: ${JSON.stringify(view)}\n\n`);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': String(body.length), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function redirect(res: http.ServerResponse, to: string): void {
  res.writeHead(302, { location: to, 'content-length': '0' });
  res.end();
}

function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof KeeperException) {
    const status: Record<string, number> = {
      NONODE: 404,
      NOAUTH: 403,
      AUTHFAILED: 401,
      BADVERSION: 409,
      NODEEXISTS: 409,
      NOTEMPTY: 409,
      NOCHILDRENFOREPHEMERALS: 409,
      BADARGUMENTS: 400,
      INVALIDACL: 400,
      CONNECTIONLOSS: 503,
      SESSIONEXPIRED: 503,
      OPERATIONTIMEOUT: 504,
    };
    return new HttpError(status[e.codeName] ?? 502, e.codeName, e.message);
  }
  const err = e as Error;
  if (err.name === 'IllegalArgumentError' || err instanceof RangeError || err instanceof TypeError) return new HttpError(400, 'BAD_REQUEST', err.message);
  return new HttpError(500, 'INTERNAL', err.message ?? String(e));
}

/** Which pooled session serves a request: a hash of its X-ZK-Auth credentials. */
function sessionKey(req: http.IncomingMessage): string {
  const raw = req.headers[AUTH_HEADER];
  return createHash('sha256').update(typeof raw === 'string' ? raw.trim() : '').digest('hex');
}

/** Whether a Host header names a loopback address or localhost (any port). */
function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === '::1' || name.toLowerCase() === 'localhost';
}

function readCookie(req: http.IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{16,}$/.test(v) ? v : null;
    }
  }
  return null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new HttpError(415, 'BAD_REQUEST', 'Send the request body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > BODY_MAX) throw new HttpError(413, 'TOO_LARGE', `Request body over ${BODY_MAX} bytes`);
    chunks.push(c);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'BAD_REQUEST', `The body is not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'BAD_REQUEST', 'The body must be a JSON object');
  return v as Record<string, unknown>;
}

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new HttpError(400, 'BAD_REQUEST', `Missing "${key}" in the request body`);
  return v;
}

/** data: text as is ("encoding": "text", the default) or base64 ("encoding": "base64"); null for none. */
function decodeData(body: Record<string, unknown>): Buffer | null {
  const d = body['data'];
  if (d === null || d === undefined) return null;
  if (typeof d !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"data" must be a string');
  return body['encoding'] === 'base64' ? Buffer.from(d, 'base64') : Buffer.from(d, 'utf8');
}

function pathParam(q: URLSearchParams): string {
  const p = q.get('path');
  if (p === null || !p.startsWith('/')) throw new HttpError(400, 'BAD_REQUEST', 'Give an absolute znode path: ?path=/...');
  return p;
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, 'BAD_REQUEST', `${name}=${v} must be an integer ${min}..${max}`);
  return n;
}

function hex(v: number | bigint): string {
  return `0x${BigInt(v).toString(16)}`;
}

function statJson(s: Stat): Record<string, unknown> {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex(BigInt.asUintN(64, s.ephemeralOwner)),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

const PERM_LETTERS: Array<[number, string]> = [
  [1, 'r'],
  [2, 'w'],
  [4, 'c'],
  [8, 'd'],
  [16, 'a'],
];

/** zkCli's order: c d r w a. */
function permString(perms: number): string {
  return ['c', 'd', 'r', 'w', 'a'].filter((l) => (PERM_LETTERS.find(([, x]) => x === l)![0] & perms) !== 0).join('');
}

/** zkCli's ACL text: scheme:id:perms[,scheme:id:perms...], the id may hold colons (digest user:hash). */
export function parseAcl(text: string): ACL[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const first = entry.indexOf(':');
      const last = entry.lastIndexOf(':');
      if (first < 0 || last === first) throw new HttpError(400, 'BAD_REQUEST', `ACL entry "${entry}" is not scheme:id:perms (e.g. world:anyone:cdrwa, digest:user:<hash>:rw)`);
      const letters = entry.slice(last + 1);
      let perms = 0;
      for (const ch of letters) {
        const hit = PERM_LETTERS.find(([, l]) => l === ch);
        if (hit === undefined) throw new HttpError(400, 'BAD_REQUEST', `ACL entry "${entry}": unknown permission "${ch}" (use c, d, r, w, a)`);
        perms |= hit[0];
      }
      return { perms, id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) } };
    });
}
