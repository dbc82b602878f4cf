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
await import('../src/cli.ts');
