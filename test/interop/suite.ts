/**
 * node:test registration helpers: one describe() per enabled target, with a
 * server shared by the scenarios of that describe (started in before(),
 * stopped in after()). Scenarios use disjoint znode paths.
 */
import { after, before, describe } from 'node:test';
import { enabledTargets, startTarget, type ServerHandle, type StartOptions, type Target } from './peers.js';

export interface TargetContext {
  target: Target;
  /** the running server (valid inside tests, i.e. after before() ran) */
  server(): ServerHandle;
}

export function describeEachTarget(title: string, body: (ctx: TargetContext) => void, opts: StartOptions = {}): void {
  for (const target of enabledTargets()) {
    describe(`${title} [${target}]`, () => {
      let handle: ServerHandle | undefined;
      before(async () => {
        handle = await startTarget(target, opts);
      });
      after(async () => {
        await handle?.stop();
      });
      body({
        target,
        server: () => {
          if (handle === undefined) throw new Error(`${target} server not started`);
          return handle;
        },
      });
    });
  }
}
