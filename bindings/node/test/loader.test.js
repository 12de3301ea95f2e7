'use strict';
// loader.js: which addon is loaded on which machine (injected platform, arch, libc, files).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { loadAddon, choosePackage, detectLibc, readPlatforms } = require('../loader');

const MAIN = '@idaas/node';
const PLATFORMS = readPlatforms(path.join(__dirname, '..')); // the repository's packaging/platforms.json

test('the platform list is packaging/platforms.json', () => {
  const suffixes = PLATFORMS.map((p) => p.suffix);
  for (const s of ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl']) assert.ok(suffixes.includes(s), s);
});

test('each supported machine gets its package', () => {
  const cases = [
    [{ platform: 'linux', arch: 'x64', libc: 'glibc' }, '@idaas/node-linux-x64-gnu'],
    [{ platform: 'linux', arch: 'x64', libc: 'musl' }, '@idaas/node-linux-x64-musl'],
    [{ platform: 'linux', arch: 'arm64', libc: 'glibc' }, '@idaas/node-linux-arm64-gnu'],
  ];
  for (const [host, name] of cases) assert.equal(choosePackage(MAIN, PLATFORMS, host).name, name);
});

test('an unsupported machine: the error names it and every supported platform', () => {
  for (const host of [
    { platform: 'linux', arch: 'arm64', libc: 'musl' },
    { platform: 'darwin', arch: 'arm64', libc: null },
    { platform: 'win32', arch: 'x64', libc: null },
  ]) {
    const { name, error } = choosePackage(MAIN, PLATFORMS, host);
    assert.equal(name, undefined);
    assert.match(error.message, new RegExp(`this platform, ${host.platform}-${host.arch}`));
    for (const p of PLATFORMS) assert.ok(error.message.includes(`${MAIN}-${p.suffix}`), error.message);
    assert.match(error.message, /From source/);
  }
});

test('libc is asked only on a Linux os/cpu that has packages', () => {
  let asked = 0;
  const libc = () => {
    asked++;
    return 'musl';
  };
  choosePackage(MAIN, PLATFORMS, { platform: 'darwin', arch: 'arm64', libc });
  choosePackage(MAIN, PLATFORMS, { platform: 'linux', arch: 'riscv64', libc });
  assert.equal(asked, 0);
  assert.equal(choosePackage(MAIN, PLATFORMS, { platform: 'linux', arch: 'x64', libc }).name, '@idaas/node-linux-x64-musl');
  assert.equal(asked, 1);
});

test('detectLibc reads the report header; not Linux: null', () => {
  const report = (header) => ({ getReport: () => ({ header }) });
  assert.equal(detectLibc('linux', report({ glibcVersionRuntime: '2.36' })), 'glibc');
  assert.equal(detectLibc('linux', report({})), 'musl');
  assert.equal(detectLibc('darwin', null), null);
  // The report's network part is skipped while asking, and the setting put back.
  const r = { excludeNetwork: false, seen: null };
  r.getReport = () => {
    r.seen = r.excludeNetwork;
    return { header: {} };
  };
  detectLibc('linux', r);
  assert.deepEqual([r.seen, r.excludeNetwork], [true, false]);
  // This process: the test machines run glibc builds of node.
  assert.equal(detectLibc(), 'glibc');
});

function fakeDeps(over) {
  const loaded = [];
  return {
    loaded,
    deps: {
      env: {},
      dir: '/pkg',
      exists: () => false,
      requireFn: (f) => {
        loaded.push(f);
        return { file: f };
      },
      resolveFn: (n) => `/node_modules/${n}/idaas.node`,
      host: { platform: 'linux', arch: 'x64', libc: 'glibc' },
      platforms: PLATFORMS,
      mainName: MAIN,
      version: '9.9.9',
      ...over,
    },
  };
}

test('order: IDAAS_NODE_ADDON, then the dev build, then the platform package', () => {
  let f = fakeDeps({ env: { IDAAS_NODE_ADDON: '/x/asan.node' }, exists: () => true });
  assert.equal(loadAddon(f.deps).file, '/x/asan.node');
  f = fakeDeps({ exists: (p) => p === path.join('/pkg', 'build', 'idaas.node') });
  assert.equal(loadAddon(f.deps).file, path.join('/pkg', 'build', 'idaas.node'));
  f = fakeDeps({});
  assert.equal(loadAddon(f.deps).file, '/node_modules/@idaas/node-linux-x64-gnu/idaas.node');
});

test('the platform package not installed: the error names it and how to get it', () => {
  const f = fakeDeps({
    host: { platform: 'linux', arch: 'arm64', libc: 'glibc' },
    resolveFn: (n) => {
      throw Object.assign(new Error(`Cannot find module '${n}'`), { code: 'MODULE_NOT_FOUND' });
    },
  });
  assert.throws(() => loadAddon(f.deps), (e) => {
    assert.match(e.message, /linux-arm64 \(glibc\) is the package @idaas\/node-linux-arm64-gnu, which is not installed/);
    assert.match(e.message, /npm install @idaas\/node-linux-arm64-gnu@9\.9\.9/);
    assert.equal(e.cause.code, 'MODULE_NOT_FOUND');
    assert.doesNotMatch(e.message, /make -C/);
    return true;
  });
  assert.deepEqual(f.loaded, []);
  // In a checkout: the missing dev build is named too.
  f.deps.exists = (p) => p === path.join('/pkg', 'Makefile');
  assert.throws(() => loadAddon(f.deps), /not installed.*In the repository, `make -C \/pkg` builds \/pkg\/build\/idaas\.node\./);
});

test('an installed package whose addon does not load: the error says which file and why', () => {
  const f = fakeDeps({
    requireFn: () => {
      throw new Error('Error loading shared library libc.so: No such file or directory');
    },
  });
  assert.throws(() => loadAddon(f.deps), /node-linux-x64-gnu is installed but its addon .* does not load: Error loading/);
});
