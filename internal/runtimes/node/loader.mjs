// Loading the function's handler from _HANDLER ("file.export",
// "dir/file.export", "file.nested.export"), in the order Lambda's Node.js
// runtime tries files: file (no extension), file.js as CommonJS unless the
// nearest package.json says "type": "module", then file.js as ESM (when it
// does), file.mjs, file.cjs, and finally a module found by Node's own
// resolution (node_modules, NODE_PATH).

import fs from 'node:fs';
import path from 'node:path';
import module, { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError,
} from './errors.mjs';

// Lambda's runtime lives at /var/runtime/index.mjs, and "Cannot find
// module" messages name it in their require stack; requiring from there
// keeps those messages identical.
const runtimeDir = process.env.LAMBDA_RUNTIME_DIR || '/var/runtime';
const require = createRequire(path.join(runtimeDir, 'index.mjs'));

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

// hookImports makes import() read NODE_PATH as require does
// (resolve.mjs), once, before the first ES module is imported: a
// CommonJS handler never pays for it.
let hooked = false;
async function hookImports() {
  if (hooked || !process.env.NODE_PATH) return;
  hooked = true;
  if (typeof module.registerHooks === 'function') {
    const { resolveSync } = await import('./resolve.mjs');
    module.registerHooks({ resolve: resolveSync });
  } else if (typeof module.register === 'function') {
    module.register('./resolve.mjs', import.meta.url);
  }
}

async function tryImport(file) {
  if (!fs.existsSync(file)) return undefined;
  await hookImports();
  return import(pathToFileURL(file).href);
}

// typeModule reports whether the package.json nearest to dir declares
// "type": "module"; the search stops at a node_modules directory.
function typeModule(dir) {
  for (;;) {
    if (dir.endsWith('/node_modules')) return false;
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8'))?.type === 'module';
      } catch (err) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, err);
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function loadModule(appRoot, moduleRoot, name) {
  const base = path.resolve(appRoot, moduleRoot, name);
  const found = tryRequire(base);
  if (found) return found;
  const esm = typeModule(path.dirname(base));
  if (!esm) {
    const cjs = tryRequire(base + '.js');
    if (cjs) return cjs;
  }
  const loaded = (esm && (await tryImport(base + '.js'))) ||
    (await tryImport(base + '.mjs')) ||
    tryRequire(base + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(name, { paths: [appRoot, path.resolve(appRoot, moduleRoot)] }));
}

async function loadUserApp(appRoot, moduleRoot, name) {
  try {
    return await loadModule(appRoot, moduleRoot, name);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(err);
    if (err?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(err);
    throw err;
  }
}

// loadHandler returns the handler function named by handler.
export async function loadHandler(appRoot, handler) {
  if (handler.includes('..')) {
    throw new MalformedHandlerName(`'${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const file = path.basename(handler);
  const moduleRoot = handler.slice(0, handler.indexOf(file));
  const m = /^([^.]*)\.(.*)$/.exec(file);
  if (!m) throw new MalformedHandlerName('Bad handler');
  const app = await loadUserApp(appRoot, moduleRoot, m[1]);
  const fn = m[2].split('.').reduce((obj, key) => obj && obj[key], app);
  if (!fn) throw new HandlerNotFound(`${handler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${handler} is not a function`);
  return fn;
}
