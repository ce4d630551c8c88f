/**
 * The TypeScript client's suite (test/client/scenarios.ts) against each interop target:
 * Apache ZooKeeper 3.8 and our server, the same scenarios, so the client is known to
 * work with the reference server and the two servers to answer it alike.
 */
import { registerClientScenarios } from '../client/scenarios.js';
import { describeEachTarget } from './suite.js';

describeEachTarget(
  'TypeScript client',
  ({ server }) => {
    registerClientScenarios(() => ({ connectString: server().connectString }));
  },
  { extraCfg: { extendedTypesEnabled: 'true' } },
);
