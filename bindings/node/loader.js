'use strict';
/*
 * Which native addon to load (docs/decisions.md D-55).
 *
 *   1. IDAAS_NODE_ADDON, when set (a test build, e.g. the ASan one);
 *   2. build/idaas.node next to this file: the in-repo dev build (`make`) — never shipped, so an
 *      installed package always takes step 3;
 *   3. the platform package @idaas/node-<suffix> (an optionalDependency: npm installs only the one
 *      whose os/cpu/libc match), chosen here by process.platform, process.arch and the C library
 *      node itself runs on.
 *
 * The list of platforms is packaging/platforms.json: the published package carries its node part
 * as ./platforms.json (written by packaging/node/build.sh, like the optionalDependencies), the
 * repository reads the original. Everything the choice depends on is a parameter, so that
 * test/loader.test.js can play any machine.
 */

const fs = require('node:fs');
const path = require('node:path');

/** The platforms of a platforms.json document: [{suffix, os, cpu, libc}]. */
function platformsOf(doc) {
  return doc.platforms.map((p) => ({ suffix: p.node.suffix, os: p.node.os, cpu: p.node.cpu, libc: p.node.libc }));
}

/** The platform list: the packaged copy, else the repository's (a dev checkout). */
function readPlatforms(dir = __dirname) {
  for (const f of [path.join(dir, 'platforms.json'), path.join(dir, '..', '..', 'packaging', 'platforms.json')]) {
    if (fs.existsSync(f)) return platformsOf(JSON.parse(fs.readFileSync(f, 'utf8')));
  }
  return [];
}

/**
 * The C library this node process runs on: 'glibc', 'musl', or null (not Linux). Node's own
 * diagnostic report names the glibc it runs with (header.glibcVersionRuntime) and has no such field
 * under musl — the process's own answer, not a guess from files on disk (a glibc node can run on
 * Alpine through gcompat, and then needs the glibc addon). The same rule as napi-rs and detect-libc.
 */
function detectLibc(platform = process.platform, report = process.report) {
  if (platform !== 'linux') return null;
  // The network part of the report (a reverse DNS lookup per interface) is not needed: skip it
  // where node allows it (20.13+), and put the setting back.
  const hasExclude = report && typeof report.excludeNetwork === 'boolean';
  const saved = hasExclude ? report.excludeNetwork : undefined;
  try {
    if (hasExclude) report.excludeNetwork = true;
    const header = report.getReport().header;
    return header.glibcVersionRuntime ? 'glibc' : 'musl';
  } finally {
    if (hasExclude) report.excludeNetwork = saved;
  }
}

/** A platform as people name it: linux-x64 (glibc). */
function describe({ os, cpu, libc }) {
  return libc ? `${os}-${cpu} (${libc})` : `${os}-${cpu}`;
}

/**
 * The platform package for this machine, or an Error saying which platform this is and which are
 * supported. host: {platform, arch, libc}; libc may be a function (asked only on Linux, and only
 * when some package matches the os and cpu: the report costs a few milliseconds).
 */
function choosePackage(mainName, platforms, host) {
  const candidates = platforms.filter((p) => p.os === host.platform && p.cpu === host.arch);
  let libc = null;
  if (candidates.some((p) => p.libc)) libc = typeof host.libc === 'function' ? host.libc() : host.libc;
  const match = candidates.find((p) => !p.libc || p.libc === libc);
  if (match) return { name: `${mainName}-${match.suffix}`, platform: match };
  const here = describe({ os: host.platform, cpu: host.arch, libc });
  const supported = platforms.map((p) => `${describe(p)}: ${mainName}-${p.suffix}`).join(', ');
  return {
    error: new Error(
      `${mainName}: no prebuilt addon for this platform, ${here}. Supported: ${supported || 'none listed'}. ` +
        'On another platform, build the addon from source (bindings/node/README.md, "From source").',
    ),
  };
}

/**
 * Loads the addon. deps (tests): {env, dir, exists, requireFn, resolveFn, host, platforms, mainName}.
 */
function loadAddon(deps = {}) {
  const env = deps.env || process.env;
  const dir = deps.dir || __dirname;
  const exists = deps.exists || fs.existsSync;
  const requireFn = deps.requireFn || require;
  const resolveFn = deps.resolveFn || require.resolve;
  if (env.IDAAS_NODE_ADDON) return requireFn(path.resolve(env.IDAAS_NODE_ADDON));
  const dev = path.join(dir, 'build', 'idaas.node');
  if (exists(dev)) return requireFn(dev);

  const mainName = deps.mainName || require('./package.json').name;
  const platforms = deps.platforms || readPlatforms(dir);
  const host = deps.host || { platform: process.platform, arch: process.arch, libc: () => detectLibc() };
  const chosen = choosePackage(mainName, platforms, host);
  if (chosen.error) throw chosen.error;
  let file;
  try {
    file = resolveFn(chosen.name);
  } catch (cause) {
    if (cause && cause.code !== 'MODULE_NOT_FOUND') throw cause;
    throw new Error(
      `${mainName}: the addon for ${describe(chosen.platform)} is the package ${chosen.name}, which is not ` +
        'installed. npm installs it as an optional dependency: was it omitted (--omit=optional, ' +
        '--no-optional), or was node_modules installed on another platform? Reinstall here, or ' +
        `npm install ${chosen.name}@${deps.version || require('./package.json').version}.` +
        // A checkout of the repository (the package ships no Makefile): the dev build is missing.
        (exists(path.join(dir, 'Makefile')) ? ` In the repository, \`make -C ${dir}\` builds ${dev}.` : ''),
      { cause },
    );
  }
  try {
    return requireFn(file);
  } catch (cause) {
    throw new Error(`${mainName}: ${chosen.name} is installed but its addon ${file} does not load: ${cause.message}`, {
      cause,
    });
  }
}

module.exports = { loadAddon, choosePackage, detectLibc, platformsOf, readPlatforms };
