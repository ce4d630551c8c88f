/**
 * zk-cli: zkCli.sh without Java.
 *
 *   zk-cli -server host:port[,host:port...][/chroot] [-timeout ms] [-r] [-waitforconnection] [cmd args...]
 *
 * TLS as zkCli.sh: -Dzookeeper.client.secure=true and the zookeeper.ssl.* properties
 * (keyStore/trustStore location, password, type: PEM or PKCS12) in CLIENT_JVMFLAGS or
 * JVMFLAGS, or as lines of the -client-configuration file.
 *
 * SASL DIGEST-MD5 as zkCli.sh with DigestLoginModule: -Djava.security.auth.login.config=FILE
 * names a JAAS file whose Client section (zookeeper.sasl.clientconfig) holds username and
 * password; -Dzookeeper.sasl.client=false turns it off.
 *
 * With a command: run it and exit with zkCli.sh's exit code (0, 1 for a failed command,
 * 127 for an unknown one). Without: read commands; on a terminal with a prompt, history
 * and tab completion of commands and znode paths (as zkCli.sh with JLine), otherwise line
 * by line without a prompt (as zkCli.sh without JLine).
 */
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import { parseJvmFlags, parseProperties } from '../server/config.js';
import { JaasError, loadClientCredentials } from '../server/jaas.js';
import { clientSideTlsOptions, TlsConfigError } from '../server/tls.js';
import { CliError, ExitRequest, ZooKeeperMain, type MainOptions } from './zkcli/main.js';
import { JavaCrash } from './zkcli/format.js';

interface ParsedArgs {
  options: MainOptions;
  command: string[] | null;
}

/** MyCommandOptions.parseOptions */
export function parseArgs(argv: readonly string[], err: (l: string) => void): ParsedArgs {
  const options: MainOptions = { server: 'localhost:2181', timeoutMs: 30000, readOnly: false, waitForConnection: false };
  let timeout = '30000';
  let clientConfigFile: string | undefined;
  const finish = (): void => {
    options.timeoutMs = Number.parseInt(timeout, 10);
    const tls = secureOptions(clientConfigFile, process.env);
    if (tls !== undefined) options.tls = tls;
    const sasl = saslOptions(clientConfigFile, process.env, err);
    if (sasl !== undefined) options.sasl = sasl;
  };
  for (let i = 0; i < argv.length; i++) {
    const opt = argv[i]!;
    const next = (): string | undefined => {
      if (i + 1 >= argv.length) {
        err(`Error: no argument found for option ${opt}`);
        return undefined;
      }
      return argv[++i];
    };
    if (opt === '-server') {
      const v = next();
      if (v === undefined) break;
      options.server = v;
    } else if (opt === '-timeout') {
      const v = next();
      if (v === undefined) break;
      timeout = v;
    } else if (opt === '-r') {
      options.readOnly = true;
    } else if (opt === '-client-configuration') {
      const v = next();
      if (v === undefined) break;
      clientConfigFile = v;
    } else if (opt === '-waitforconnection') {
      options.waitForConnection = true;
    }
    if (!opt.startsWith('-')) {
      finish();
      return { options, command: argv.slice(i) };
    }
  }
  finish();
  return { options, command: null };
}

/**
 * The Java client's properties: -D flags of CLIENT_JVMFLAGS then JVMFLAGS (zkCli.sh's
 * order: the later wins), then the -client-configuration file (ZKClientConfig).
 */
export function clientProperties(configFile: string | undefined, env: NodeJS.ProcessEnv): Map<string, string> {
  const props = new Map<string, string>();
  for (const v of ['CLIENT_JVMFLAGS', 'JVMFLAGS']) {
    for (const { name, value } of parseJvmFlags(env[v] ?? '')) props.set(name, value);
  }
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      throw new CliError(`Unable to read the client configuration file ${configFile}: ${(e as Error).message}`, 1);
    }
    for (const e of parseProperties(text, configFile)) props.set(e.key, e.value);
  }
  return props;
}

/** TLS options when zookeeper.client.secure=true, from the zookeeper.ssl.* properties. */
function secureOptions(configFile: string | undefined, env: NodeJS.ProcessEnv): MainOptions['tls'] {
  const props = clientProperties(configFile, env);
  if ((props.get('zookeeper.client.secure') ?? '').trim().toLowerCase() !== 'true') return undefined;
  try {
    const { options, hostnameVerification } = clientSideTlsOptions(props);
    return { ...options, hostnameVerification };
  } catch (e) {
    if (e instanceof TlsConfigError) throw new CliError(`zookeeper.client.secure=true, but the TLS settings cannot be used: ${e.message}`, 1);
    throw e;
  }
}

/**
 * SASL credentials when a JAAS file is configured (java.security.auth.login.config) and
 * zookeeper.sasl.client is not false. As the Java client, a JAAS file without the section
 * only warns: the session goes on without SASL.
 */
function saslOptions(configFile: string | undefined, env: NodeJS.ProcessEnv, warn: (l: string) => void): MainOptions['sasl'] {
  const props = clientProperties(configFile, env);
  const file = props.get('java.security.auth.login.config');
  if (file === undefined || file.trim() === '') return undefined;
  if ((props.get('zookeeper.sasl.client') ?? 'true').trim().toLowerCase() !== 'true') return undefined;
  const section = props.get('zookeeper.sasl.clientconfig') ?? 'Client';
  try {
    const { username, password } = loadClientCredentials(file.trim(), section);
    const serviceName = props.get('zookeeper.sasl.client.username');
    return { mechanism: 'DIGEST-MD5', username, password, ...(serviceName !== undefined ? { serviceName } : {}) };
  } catch (e) {
    if (!(e instanceof JaasError)) throw e;
    warn(`SASL configuration failed: ${e.message}. Will continue connection to Zookeeper server without SASL authentication, if Zookeeper server allows it.`);
    return undefined;
  }
}

function writeOut(text: string): void {
  process.stdout.write(text);
}

function writeErr(text: string): void {
  process.stderr.write(text);
}

function drain(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}

async function exit(main: ZooKeeperMain | null, code: number): Promise<never> {
  // zkCli.sh's JVM just exits: the session stays until it expires (quit closes it first)
  if (main !== null) main.quiet = true;
  await Promise.all([drain(process.stdout), drain(process.stderr)]);
  process.exit(code);
}

async function interactive(main: ZooKeeperMain): Promise<void> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  writeOut('Welcome to ZooKeeper!\n');
  writeOut(tty ? 'JLine support is enabled\n' : 'JLine support is disabled\n');
  const rl = readline.createInterface({
    input: process.stdin,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    historySize: 500,
    completer: tty ? (line: string, cb: (err: Error | null, result: [string[], string]) => void) => void complete(main, line).then((r) => cb(null, r), () => cb(null, [[], line])) : undefined,
  });
  if (tty) {
    rl.on('SIGINT', () => void exit(main, 130));
    rl.setPrompt(main.prompt());
    rl.prompt();
  }
  for await (const line of rl) {
    await main.executeLine(line);
    if (tty) {
      rl.setPrompt(main.prompt());
      rl.prompt();
    }
  }
}

/** JLineZNodeCompleter: commands, or the children of the path's parent. */
export async function complete(main: ZooKeeperMain, buffer: string): Promise<[string[], string]> {
  let token = '';
  if (!buffer.endsWith(' ')) {
    const tokens = buffer.split(' ');
    token = tokens[tokens.length - 1] ?? '';
  }
  if (token.startsWith('/')) {
    const idx = token.lastIndexOf('/') + 1;
    const prefix = token.slice(idx);
    const dir = idx === 1 ? '/' : token.slice(0, idx - 1);
    const zk = main.zk;
    if (zk === null) return [[], prefix];
    try {
      const children = await zk.getChildren(dir);
      return [children.filter((c) => c.startsWith(prefix)).sort(), prefix];
    } catch {
      return [[], prefix];
    }
  }
  return [main.commandNames().filter((c) => c.startsWith(token)), token];
}

export async function run(argv: readonly string[]): Promise<void> {
  let main: ZooKeeperMain | null = null;
  try {
    const { options, command } = parseArgs(argv, (l) => writeErr(`${l}\n`));
    writeOut(`Connecting to ${options.server}\n`);
    main = new ZooKeeperMain(
      {
        out: (l) => writeOut(`${l}\n`),
        err: (l) => writeErr(`${l}\n`),
        outRaw: (t) => writeOut(t),
      },
      options,
    );
    await main.connectToZK(options.server);
    if (command === null) {
      await interactive(main);
    } else {
      await main.processCmd([...command]);
    }
    await exit(main, main.exitCode);
  } catch (e) {
    if (e instanceof ExitRequest) await exit(main, e.code);
    if (e instanceof JavaCrash) {
      writeErr(`Exception in thread "main" ${e.message}\n`);
      await exit(main, 1);
    }
    if (e instanceof CliError) {
      writeErr(`${e.message}\n`);
      await exit(main, e.exitCode);
    }
    throw e;
  }
}

await run(process.argv.slice(2));
