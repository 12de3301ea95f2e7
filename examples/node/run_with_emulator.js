#!/usr/bin/env node
'use strict';
// Runs jwt_lifecycle.js against a fresh emulator (used by `make -C bindings/node example`).
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { startEmulator } = require('../../bindings/node/test/helpers');

(async () => {
  const em = await startEmulator();
  try {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'jwt_lifecycle.js'), em.configPath], {
      stdio: 'inherit',
      env: process.env, // holds the emulator's client secret
    });
    process.exitCode = r.status ?? 1;
  } finally {
    await em.stop();
  }
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
