#!/usr/bin/env node
'use strict';
// The talos-capi command. The project runs on Node 24 (@kubernetes/client-node 2.x needs >= 22.19):
// on an older Node — a machine's own — this re-executes itself with the Node 24 that the `node`
// dependency installs. It runs the compiled CLI (dist/, from `npm run build`) when there is one,
// else the TypeScript sources through tsx; TALOS_CAPI_SOURCE=1 forces the sources (development).
// On Node 24 it runs in this process.
// Written for any Node version: no syntax newer than the oldest Node it must recognise.
var childProcess = require('node:child_process');
var fs = require('node:fs');
var path = require('node:path');

var MIN_MAJOR = 24;
var root = path.resolve(__dirname, '..');
var args = process.argv.slice(2);
var compiled = path.join(root, 'dist', 'src', 'cli', 'main.js');
var useSource = process.env.TALOS_CAPI_SOURCE === '1' || !fs.existsSync(compiled);
var currentMajor = Number(process.versions.node.split('.')[0]);

function node24() {
  var bundled = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (fs.existsSync(bundled)) return bundled;
  process.stderr.write('talos-capi: needs Node.js ' + MIN_MAJOR + ' or newer (this is ' + process.version +
    '); run `npm install` in ' + root + ' to get it as the `node` dependency\n');
  process.exit(1);
}

function runHere() {
  if (useSource) require('tsx/cjs/api').register();
  var cli = require(useSource ? path.join(root, 'src', 'cli', 'main.ts') : compiled);
  cli.main(args).then(function (code) { process.exitCode = code; });
}

// Its own process group: a signal sent to ours (a supervisor's SIGTERM to the group, Ctrl-C)
// reaches it once, through the forwarding below, not twice (a second signal means "exit now").
function runOnNode24() {
  var entry = useSource ? ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')] : [compiled];
  var child = childProcess.spawn(node24(), entry.concat(args), { stdio: 'inherit', detached: true });
  ['SIGTERM', 'SIGINT', 'SIGHUP'].forEach(function (signal) {
    process.on(signal, function () { child.kill(signal); });
  });
  child.on('exit', function (code, signal) {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code === null ? 1 : code);
    }
  });
}

if (currentMajor >= MIN_MAJOR) runHere();
else runOnNode24();
