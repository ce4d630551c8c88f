/**
 * `zk-server status [zoo.cfg]`: what bin/zkServer.sh status prints in ZooKeeper 3.8,
 * line for line, minus the JMX banner (there is no JMX here):
 *
 *   Using config: /path/zoo.cfg                                        (stderr)
 *   Client port found: 2181. Client address: localhost. Client SSL: false.
 *   Mode: follower                                                     (exit 0)
 * or
 *   Error contacting service. It is probably not running.             (exit 1)
 *
 * Like the script, it sends `srvr` to the client port (FourLetterWordMain, 5 s
 * timeout) and keeps the "Mode" line; a node that does not answer, or answers
 * "This ZooKeeper instance is not currently serving requests", has none.
 *
 * The client address is zoo.cfg's clientPortAddress, else the host of this node's
 * `server.N=...;host:port`, else localhost; the port is clientPort, else the port
 * of that server line, as the script finds them (its grep over zoo.cfg and myid).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ConfigError, loadConfig, parseProperties, resolveConfigPath, type ServerConfig } from '../server/config.js';

type Env = Record<string, string | undefined>;

export interface StatusIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: StatusIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** FourLetterWordMain's default timeout. */
export const STATUS_TIMEOUT_MS = 5000;

export const NOT_RUNNING = 'Error contacting service. It is probably not running.';

/** Where zkServer.sh status would connect: [address, port], or null with the reason it gives. */
export function statusTarget(cfg: ServerConfig, cfgText: string): { host: string; port: number } | { error: string[] } {
  const explicit = parseProperties(cfgText, cfg.configFile).filter((e) => e.key === 'clientPortAddress' && e.value !== '').pop();
  const spec = cfg.myid === undefined ? undefined : cfg.servers.get(cfg.myid);
  const host = explicit !== undefined ? cfg.clientPortAddress : spec?.clientHost ?? 'localhost';
  if (cfg.clientPort !== undefined) return { host, port: cfg.clientPort };
  const lines = ['Client port not found. Looking for secureClientPort in the static config.'];
  if (cfg.secureClientPort !== undefined) {
    lines.push(`Found secureClientPort=${cfg.secureClientPort}, but zk-server status asks over a plaintext clientPort only; add clientPort to ${cfg.configFile}, or ask the node with zk-cli over TLS (CLIENT_JVMFLAGS="-Dzookeeper.client.secure=true -Dzookeeper.ssl.keyStore.location=... -Dzookeeper.ssl.trustStore.location=...").`);
  } else {
    lines.push('Unable to find either secure or unsecure client port in any configs. Terminating.');
  }
  return { error: lines };
}

/** Send a four-letter word and read the answer until the server closes; null if it cannot be reached in time. */
export function sendFourLetterWord(host: string, port: number, word: string, timeoutMs = STATUS_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('connect', () => sock.end(word));
    sock.on('data', (b: Buffer) => (out += b.toString('utf8')));
    sock.on('end', () => finish(out));
    sock.on('close', () => finish(out === '' ? null : out));
    sock.on('error', () => finish(null));
  });
}

/** Run the status command; resolves with the exit code (0: the node serves, 1: not). */
export async function status(arg: string | undefined, env: Env = process.env, io: StatusIo = consoleIo): Promise<number> {
  const file = resolveConfigPath(arg, env);
  io.err(`Using config: ${file}`);
  let cfg: ServerConfig;
  let text: string;
  try {
    cfg = loadConfig(file, env);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
  const target = statusTarget(cfg, text);
  if ('error' in target) {
    for (const l of target.error) io.out(l);
    return 1;
  }
  io.out(`Client port found: ${target.port}. Client address: ${target.host}. Client SSL: false.`);
  const answer = await sendFourLetterWord(target.host, target.port, 'srvr');
  // zkServer.sh: STAT=`... srvr | grep Mode`; echo $STAT (unquoted: lines joined by a space).
  const mode = (answer ?? '').split('\n').filter((l) => l.includes('Mode')).map((l) => l.trim().split(/\s+/).join(' '));
  if (mode.length === 0) {
    io.out(NOT_RUNNING);
    return 1;
  }
  io.out(mode.join(' '));
  return 0;
}

/** The action of `zk-server status`. */
export async function statusCommand(config: string | undefined): Promise<void> {
  process.exitCode = await status(config);
}
