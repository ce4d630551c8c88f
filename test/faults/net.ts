/**
 * Network faults between nodes on loopback.
 *
 * Partitions: an nftables table of our own (inet zkfaults_<pid>), an output-hook chain
 * dropping the quorum and election traffic (tcp ports 2888/3888, either end) from one
 * node's address to another's. Nodes bind their outgoing peer connections to their own
 * address, so a rule on (saddr, daddr) cuts exactly one direction of one link; client
 * traffic (port 2181) is never matched. Deleting the table undoes everything; it is
 * deleted on heal, on close, by process exit/signal handlers, and by a detached watchdog
 * shell (`cat; nft delete table`) that does it when this process dies in any other way.
 *
 * Delay and loss: LinkProxy, a TCP proxy per node in this process. Node i's zoo.cfg names
 * the other nodes by proxy addresses (127.0.1.(j+base)), so node i's quorum connections
 * and the election connections it initiates run i -> proxy -> j, and the proxy connects
 * onward from i's own address (the partition rules still match). Per directed link: a
 * delay (+ jitter, order kept) and a loss rate (a chunk lost resets the connection: TCP
 * cannot lose bytes and go on). ZooKeeper 3.8 election connect-backs go to the address a
 * peer announces (its real one), so those election links bypass the proxy.
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';

export const PEER_PORTS = [2888, 3888] as const;

export function nftAvailable(): string | null {
  try {
    const t = `zkfaults_probe_${process.pid}`;
    execFileSync('nft', ['add', 'table', 'inet', t], { stdio: 'pipe' });
    execFileSync('nft', ['delete', 'table', 'inet', t], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
}

export class Partitioner {
  readonly table = `zkfaults_${process.pid}`;
  #installed = false;
  #watchdog: ReturnType<typeof spawn> | null = null;
  readonly #onExit = (): void => this.#deleteSync();
  /** Directed cuts currently in force, "a>b". */
  readonly cuts = new Set<string>();

  constructor(readonly hostOf: (id: number) => string) {}

  #nft(args: string[]): void {
    execFileSync('nft', args, { stdio: 'pipe' });
  }

  #ensure(): void {
    if (this.#installed) return;
    this.#nft(['add', 'table', 'inet', this.table]);
    this.#nft(['add', 'chain', 'inet', this.table, 'out', '{ type filter hook output priority 0; policy accept; }']);
    this.#installed = true;
    process.on('exit', this.#onExit);
    // Watchdog: removes the table when our end of its stdin closes (we died).
    const w = spawn('sh', ['-c', `cat >/dev/null; nft delete table inet ${this.table} 2>/dev/null`], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    w.unref();
    w.stdin!.on('error', () => undefined);
    (w.stdin as unknown as { unref?: () => void }).unref?.();
    this.#watchdog = w;
  }

  /** Drop peer traffic from node a to node b (one direction). */
  cut(a: number, b: number): void {
    this.#ensure();
    const key = `${a}>${b}`;
    if (this.cuts.has(key)) return;
    const [sa, sb] = [this.hostOf(a), this.hostOf(b)];
    for (const dir of ['dport', 'sport']) {
      this.#nft(['add', 'rule', 'inet', this.table, 'out', 'ip', 'saddr', sa, 'ip', 'daddr', sb, 'tcp', dir, `{ ${PEER_PORTS.join(', ')} }`, 'drop']);
    }
    this.cuts.add(key);
  }

  /** Cut both directions between every node of `x` and every node of `y`. */
  split(x: number[], y: number[]): void {
    for (const a of x) for (const b of y) if (a !== b) {
      this.cut(a, b);
      this.cut(b, a);
    }
  }

  /** Remove every rule (the table stays until close). */
  heal(): void {
    if (!this.#installed || this.cuts.size === 0) return;
    this.#nft(['flush', 'chain', 'inet', this.table, 'out']);
    this.cuts.clear();
  }

  #deleteSync(): void {
    if (!this.#installed) return;
    try {
      execFileSync('nft', ['delete', 'table', 'inet', this.table], { stdio: 'pipe' });
    } catch {
      /* gone */
    }
    this.#installed = false;
    this.cuts.clear();
  }

  /** Delete the table and stop the watchdog. */
  close(): void {
    this.#deleteSync();
    process.off('exit', this.#onExit);
    this.#watchdog?.stdin?.end();
    this.#watchdog = null;
  }
}

export interface LinkFault {
  delayMs: number;
  jitterMs: number;
  /** Probability that a chunk is lost (and the connection reset). */
  loss: number;
}

const NO_FAULT: LinkFault = { delayMs: 0, jitterMs: 0, loss: 0 };

/** The proxy address through which the other nodes reach node `id`. */
export function proxyHost(id: number, ipBase: number): string {
  return `127.0.1.${id + ipBase}`;
}

/** How long the proxy keeps retrying a refused upstream connect (about a learner's initLimit). */
const UPSTREAM_PATIENCE_MS = 3000;

export class LinkProxy {
  readonly #servers: net.Server[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #faults = new Map<string, LinkFault>();
  #rand: () => number;
  /** Counters: connections proxied, chunks delayed, connections reset by loss. */
  readonly stats = { connections: 0, chunks: 0, resets: 0 };

  constructor(
    readonly ids: number[],
    readonly ipBase: number,
    readonly hostOf: (id: number) => string,
    rand: () => number,
  ) {
    this.#rand = rand;
  }

  async start(): Promise<void> {
    for (const j of this.ids) {
      for (const port of PEER_PORTS) {
        const srv = net.createServer((down) => this.#accept(j, port, down));
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen({ host: proxyHost(j, this.ipBase), port, exclusive: true }, () => resolve());
        });
        this.#servers.push(srv);
      }
    }
  }

  set(a: number, b: number, f: LinkFault): void {
    this.#faults.set(`${a}>${b}`, f);
  }

  heal(): void {
    this.#faults.clear();
  }

  #fault(a: number, b: number): LinkFault {
    return this.#faults.get(`${a}>${b}`) ?? NO_FAULT;
  }

  #accept(j: number, port: number, down: net.Socket): void {
    const src = down.remoteAddress ?? '';
    const i = this.ids.find((id) => this.hostOf(id) === src);
    this.#sockets.add(down);
    down.on('close', () => this.#sockets.delete(down));
    if (i === undefined) {
      down.destroy();
      return;
    }
    this.stats.connections++;
    // The proxy accepts before it knows whether the node behind it listens. A refused
    // upstream must not look like "connected, then closed": a learner that meets a leader
    // not listening yet (it reads its log first) retries its connect, but one whose
    // connection closes goes back to LOOKING. That turned a harmless race into a 90 s
    // election livelock in a long run. So retry a refused upstream for a while, holding
    // the accepted side, as the learner itself would have retried.
    down.pause();
    const deadline = Date.now() + UPSTREAM_PATIENCE_MS;
    const attempt = (): void => {
      if (down.destroyed) return;
      const up = net.connect({ host: this.hostOf(j), port, localAddress: this.hostOf(i) });
      this.#sockets.add(up);
      up.on('close', () => this.#sockets.delete(up));
      const refused = (e: NodeJS.ErrnoException): void => {
        up.destroy();
        if (e.code === 'ECONNREFUSED' && Date.now() < deadline && !down.destroyed) setTimeout(attempt, 50);
        else down.destroy();
      };
      up.once('error', refused);
      up.once('connect', () => {
        up.off('error', refused);
        this.#wire(i, j, down, up);
        down.resume();
      });
    };
    down.on('error', () => down.destroy());
    attempt();
  }

  #wire(i: number, j: number, down: net.Socket, up: net.Socket): void {
    const kill = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', kill);
    up.on('error', kill);
    down.on('close', kill);
    up.on('close', kill);
    this.#pipe(down, up, () => this.#fault(i, j), kill);
    this.#pipe(up, down, () => this.#fault(j, i), kill);
  }

  /** Forward from -> to, delaying chunks in order (one queue and one timer per direction: never reordered). */
  #pipe(from: net.Socket, to: net.Socket, fault: () => LinkFault, kill: () => void): void {
    const queue: { at: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    const pump = (): void => {
      timer = null;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.at <= now) {
        const { chunk } = queue.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - now);
    };
    from.on('close', () => {
      if (timer !== null) clearTimeout(timer);
    });
    from.on('data', (chunk: Buffer) => {
      const f = fault();
      if (f.delayMs === 0 && f.jitterMs === 0 && f.loss === 0 && queue.length === 0) {
        to.write(chunk);
        return;
      }
      this.stats.chunks++;
      if (f.loss > 0 && this.#rand() < f.loss) {
        this.stats.resets++;
        kill();
        return;
      }
      const last = queue.length > 0 ? queue[queue.length - 1]!.at : 0;
      queue.push({ at: Math.max(last, Date.now() + f.delayMs + this.#rand() * f.jitterMs), chunk });
      if (timer === null) timer = setTimeout(pump, queue[0]!.at - Date.now());
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
