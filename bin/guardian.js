#!/usr/bin/env node
// The `guardian` command. Guardian's sources are TypeScript run by Node 24's type stripping.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `guardian needs Node.js 24 or newer (this is ${process.version}). Run it through npm (npx guardian, npm start), ` +
      'which uses the Node 24 the project installs, or put node_modules/.bin first on PATH.\n',
  );
  process.exit(1);
}
// Stripping the types of every module loaded, on every start (and in every worker thread), costs
// more CPU than a short command's work; Node's on-disk compile cache (in the system's temporary
// folder, or NODE_COMPILE_CACHE) makes it a read from the second start on.
const { enableCompileCache } = await import('node:module');
const cache = enableCompileCache?.();
// Worker threads read the cache's folder from the environment they start with.
if (cache?.directory) process.env.NODE_COMPILE_CACHE ??= cache.directory;
await import('../src/cli.ts');
