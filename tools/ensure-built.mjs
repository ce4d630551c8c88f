#!/usr/bin/env node
/**
 * Build only when needed: `npm start` runs this first.
 *
 * dist/ is out of date when a compiled file is missing or older than its source:
 * src/X.ts -> dist/src/X.js (tsc rewrites every output on a build), or when the jute
 * schema or its generator is newer than the generated src/jute/records.gen.ts, or a file
 * of web/console is newer than dist/console/index.html (the console's page). Then
 * this runs `npm run build` (gen + tsc) and exits with its status; otherwise it exits 0
 * at once, printing nothing (a few hundred stat calls).
 *
 *   node tools/ensure-built.mjs            build if needed
 *   node tools/ensure-built.mjs --check    only say whether a build is needed (exit 0: no, 1: yes)
 *   --root DIR                             another checkout (default: this script's)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const check = args.includes('--check');
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 && args[rootAt + 1] !== undefined ? path.resolve(args[rootAt + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every file under dir (relative paths), or none when dir is missing. */
function walk(dir, rel = '') {
  let entries;
  try {
    entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? walk(dir, path.join(rel, e.name)) : e.isFile() ? [path.join(rel, e.name)] : []));
}

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** Why a build is needed, or null when dist/ is up to date. */
function staleReason() {
  const src = path.join(root, 'src');
  const dist = path.join(root, 'dist', 'src');
  if (!existsSync(dist)) return 'dist/ is missing';
  const gen = mtime(path.join(src, 'jute', 'records.gen.ts'));
  for (const input of ['schema/zookeeper.jute', 'tools/jutegen/jutegen.mjs']) {
    if (mtime(path.join(root, input)) > gen) return `${input} is newer than src/jute/records.gen.ts`;
  }
  for (const rel of walk(src)) {
    if (!rel.endsWith('.ts') || rel.endsWith('.d.ts')) continue;
    const out = path.join(dist, rel.replace(/\.ts$/, '.js'));
    const outTime = mtime(out);
    if (outTime < 0) return `dist/src/${rel.replace(/\.ts$/, '.js')} is missing`;
    if (mtime(path.join(src, rel)) > outTime) return `src/${rel} changed since the last build`;
  }
  // The web console (web/console -> dist/console, built by Vite).
  const page = mtime(path.join(root, 'dist', 'console', 'index.html'));
  if (existsSync(path.join(root, 'web', 'console'))) {
    if (page < 0) return 'dist/console/index.html is missing';
    for (const rel of walk(path.join(root, 'web', 'console'))) {
      if (mtime(path.join(root, 'web', 'console', rel)) > page) return `web/console/${rel} changed since the last build`;
    }
  }
  const tsconfig = mtime(path.join(root, 'tsconfig.json'));
  if (tsconfig > mtime(path.join(dist, 'cli', 'zk-server.js'))) return 'tsconfig.json changed since the last build';
  return null;
}

const reason = staleReason();
if (check) {
  console.log(reason === null ? 'dist/ is up to date' : `a build is needed: ${reason}`);
  process.exit(reason === null ? 0 : 1);
}
if (reason !== null) {
  if (!existsSync(path.join(root, 'node_modules', 'typescript'))) {
    console.error(`zookeeper-ts: ${reason}, and node_modules/ has no TypeScript to build with; run \`npm install\` first (it builds too).`);
    process.exit(1);
  }
  console.log(`zookeeper-ts: ${reason}; building (npm run build)...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.error !== undefined) {
    console.error(`zookeeper-ts: cannot run npm run build: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`zookeeper-ts: npm run build failed (${r.signal ?? `exit code ${r.status}`}); fix the errors above and run npm start again.`);
    process.exit(r.status ?? 1);
  }
}
