/**
 * The AdminServer: ZooKeeper 3.8's JettyAdminServer over node:http.
 *
 *   GET <commandURL>              links to every command (primary names, sorted)
 *   GET <commandURL>/<name>?k=v   the command's JSON (commands.ts), k=v as its arguments
 *
 * Configured by zoo.cfg (or -Dzookeeper.* flags) as ZooKeeper's: admin.enableServer
 * (default true), admin.serverAddress (0.0.0.0), admin.serverPort (8080),
 * admin.commandURL (/commands), admin.idleTimeout (30000 ms).
 *
 * Deviation: when the port cannot be bound, ZooKeeper 3.8 refuses to start ("Problem
 * starting AdminServer"), the most common surprise of a second ZooKeeper (or any
 * other service on 8080) on one host. We log one warning that names the port and the
 * zoo.cfg line to change, and the node runs on without its AdminServer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../server/log.js';
import type { ServerReport } from '../server/four-letter-words.js';
import type { ZooKeeperServer } from '../server/zk-server.js';
import { primaryNames, runCommand } from './commands.js';
import { WebConsole, defaultAssetsDir } from './console.js';
import { toJacksonJson } from './json.js';

export interface AdminServerOptions {
  /** admin.enableServer */
  readonly enabled: boolean;
  /** admin.serverAddress */
  readonly address: string;
  /** admin.serverPort (0: any free port) */
  readonly port: number;
  /** admin.commandURL */
  readonly commandUrl: string;
  /** admin.idleTimeout: idle connections close after this long (0: never). */
  readonly idleTimeoutMs: number;
  /** What initial_configuration answers: the zoo.cfg text of a standalone server, null in an ensemble. */
  readonly initialConfig: string | null;
  /** admin.console.enabled: true, false, or null (on when `address` is a loopback address). */
  readonly consoleEnabled?: boolean | null;
  /** admin.console.readOnly */
  readonly consoleReadOnly?: boolean;
  /** Where the console's built page is (default: dist/console). */
  readonly consoleAssetsDir?: string;
}

/** Whether an address is on loopback only (127/8, ::1, localhost). */
export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost' || /^::ffff:127\./.test(address);
}

/** An answer, as the handler produced it (for tests that do not open a port). */
export interface AdminResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export class AdminServer {
  #http: http.Server | null = null;
  #bound: AddressInfo | null = null;
  #console: WebConsole | null = null;

  constructor(
    readonly zk: ZooKeeperServer,
    readonly report: ServerReport,
    readonly options: AdminServerOptions,
    readonly log: Logger,
  ) {}

  /** The address bound, once started; null if disabled or it could not bind. */
  get address(): { host: string; port: number } | null {
    return this.#bound === null ? null : { host: this.#bound.address, port: this.#bound.port };
  }

  /**
   * Start listening. Resolves true when serving; false when disabled, or when the port
   * could not be bound (then after one warning: the node runs on without it).
   */
  async start(): Promise<boolean> {
    const o = this.options;
    if (!o.enabled) {
      this.log.info('AdminServerFactory', 'AdminServer not started: admin.enableServer=false');
      return false;
    }
    const server = http.createServer((req, res) => {
      void this.#serve(req, res);
    });
    server.keepAliveTimeout = o.idleTimeoutMs;
    server.setTimeout(o.idleTimeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, o.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${o.port} is in use by another process (find it with: ss -ltnp 'sport = :${o.port}')`
          : err.code === 'EACCES'
            ? `not allowed to bind port ${o.port}`
            : err.code === 'EADDRNOTAVAIL'
              ? `address ${o.address} is not an address of this host (admin.serverAddress)`
              : err.message;
      this.log.warn(
        'JettyAdminServer',
        `Problem starting AdminServer on address ${o.address}, port ${o.port} and command URL ${o.commandUrl}: ${why}. ` +
          `The server runs on without it. To move it, set admin.serverPort=<a free port> in zoo.cfg (0 picks one); to turn it off, set admin.enableServer=false.`,
      );
      server.close();
      return false;
    }
    this.#http = server;
    this.#bound = server.address() as AddressInfo;
    this.log.info('JettyAdminServer', `Started AdminServer on address ${o.address}, port ${this.#bound.port} and command URL ${o.commandUrl}`);
    const consoleOn = o.consoleEnabled ?? isLoopback(o.address);
    if (consoleOn) {
      this.#console = new WebConsole(
        this.zk,
        this.report,
        { readOnly: o.consoleReadOnly ?? false, assetsDir: o.consoleAssetsDir ?? defaultAssetsDir(), commandUrl: o.commandUrl, adminPort: () => this.#bound?.port ?? null, loopbackHostsOnly: isLoopback(o.address) },
        this.log,
      );
      const host = o.address === '0.0.0.0' ? '<this host>' : o.address.includes(':') ? `[${o.address}]` : o.address;
      this.log.info('WebConsole', `Console at http://${host}:${this.#bound.port}/console/${o.consoleReadOnly === true ? ' (read-only)' : ''}`);
    } else {
      this.log.info('WebConsole', `Console off: ${o.consoleEnabled === false ? 'admin.console.enabled=false' : `the AdminServer binds to ${o.address}, not loopback; set admin.console.enabled=true to serve it there`}`);
    }
    return true;
  }

  async stop(): Promise<void> {
    const server = this.#http;
    if (server === null) return;
    this.#http = null;
    this.#bound = null;
    const consoleServer = this.#console;
    this.#console = null;
    await consoleServer?.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Answer one request without a socket: `target` is the path and query, as in the request line. */
  async handle(method: string, target: string): Promise<AdminResponse> {
    const url = new URL(target, 'http://admin.invalid');
    const base = this.options.commandUrl.replace(/\/+$/, '');
    const p = url.pathname;
    if (method === 'TRACE') return text(405, 'TRACE is not allowed\n');
    if (p !== base && !p.startsWith(`${base}/`)) return text(404, `No command at ${p}; the commands are under ${base}\n`);
    if (method !== 'GET' && method !== 'HEAD') return text(405, `HTTP method ${method} is not supported by this URL\n`);
    const pathInfo = p.slice(base.length);
    if (pathInfo === '' || pathInfo === '/') {
      // CommandServlet: no command named, a link to each.
      const body = primaryNames().map((n) => `<a href="${base}/${n}">${n}</a>\n<br/>\n`).join('');
      return { status: 200, headers: { 'content-type': 'text/html;charset=utf-8' }, body };
    }
    let name: string;
    try {
      name = decodeURIComponent(pathInfo.slice(1));
    } catch {
      name = pathInfo.slice(1);
    }
    const args = new Map<string, string>();
    for (const [k, v] of url.searchParams) if (!args.has(k)) args.set(k, v);
    const answer = await runCommand(name, { zk: this.zk, report: this.report, initialConfig: this.options.initialConfig, args });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: toJacksonJson(answer) };
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const webConsole = this.#console;
    if (webConsole !== null && WebConsole.owns(new URL(req.url ?? '/', 'http://admin.invalid').pathname)) return webConsole.serve(req, res);
    let answer: AdminResponse;
    try {
      answer = await this.handle(req.method ?? 'GET', req.url ?? '/');
    } catch (e) {
      this.log.warn('JettyAdminServer', `Command ${req.url ?? ''} failed: ${(e as Error).stack ?? String(e)}`);
      answer = text(500, `Internal error: ${(e as Error).message}\n`);
    }
    const body = Buffer.from(answer.body, 'utf8');
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function text(status: number, body: string): AdminResponse {
  return { status, headers: { 'content-type': 'text/plain;charset=utf-8' }, body };
}
