#!/usr/bin/env node
// Thin launcher: the compiled entry point lives in dist/ (built by `npm install`).
import('../dist/src/cli/zk-bench.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('zk-bench: dist/ is missing; run `npm install` (or `npm run build`) in the zookeeper-ts checkout first.');
    process.exit(1);
  }
  throw e;
});
