/**
 * Servers for the conformance tests: a target from test/interop/peers.ts started
 * with the settings the workloads need.
 *
 *  - extendedTypesEnabled=true (TTL nodes). zoo.cfg keys ZooKeeper does not know
 *    become `zookeeper.<key>` system properties (QuorumPeerConfig.parseProperties),
 *    so the zoo.cfg key works for Apache; our server reads the same key.
 *  - znode.container.checkIntervalMs far in the future: the ContainerManager would
 *    otherwise delete empty containers and expired TTL nodes at a time of its own,
 *    consuming zxids in the middle of a run. This is a plain system property (no
 *    `zookeeper.` prefix), which zoo.cfg cannot set: Apache gets it through
 *    JAVA_TOOL_OPTIONS (peers.ts runs java directly, so SERVER_JVMFLAGS is not
 *    read), ours through SERVER_JVMFLAGS (as zkServer.sh would pass it).
 *  - forceSync=no: no fsync per txn (speed; nothing here restarts a server).
 */
import { startTarget, type ServerHandle, type Target } from '../interop/peers.js';

export const CONFORMANCE_JVM_FLAGS = '-Dznode.container.checkIntervalMs=86400000 -Dzookeeper.extendedTypesEnabled=true';

export const CONFORMANCE_CFG: Record<string, string> = {
  extendedTypesEnabled: 'true',
  forceSync: 'no',
};

/**
 * Start `target` for conformance runs. The flags are added to this process's
 * environment for good (peers.ts spawns with process.env after an await, so a
 * scoped change would race with a parallel start); a test file runs in its own
 * process, and neither variable means anything to node.
 */
export async function startConformanceServer(target: Target): Promise<ServerHandle> {
  for (const k of ['JAVA_TOOL_OPTIONS', 'SERVER_JVMFLAGS']) {
    const cur = process.env[k] ?? '';
    if (!cur.includes(CONFORMANCE_JVM_FLAGS)) process.env[k] = `${cur} ${CONFORMANCE_JVM_FLAGS}`.trim();
  }
  return startTarget(target, { extraCfg: CONFORMANCE_CFG, readyTimeoutMs: 60_000 });
}

/**
 * A server that is restarted when a run left it in an unknown state (a run that
 * aborted may leave sessions behind, whose expiry would later consume zxids in the
 * middle of another run).
 */
export class ManagedServer {
  #handle: ServerHandle | undefined;
  #dirty = false;

  constructor(readonly target: Target, readonly label: string = target) {}

  async get(): Promise<ServerHandle> {
    if (this.#handle && this.#dirty) {
      await this.#handle.stop();
      this.#handle = undefined;
    }
    this.#dirty = false;
    this.#handle ??= await startConformanceServer(this.target);
    return this.#handle;
  }

  markDirty(): void {
    this.#dirty = true;
  }

  get logFile(): string | undefined {
    return this.#handle?.logFile;
  }

  async stop(): Promise<void> {
    await this.#handle?.stop();
    this.#handle = undefined;
  }
}
