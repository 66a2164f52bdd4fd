// ES module resolution hooks: a bare specifier (`import ... from
// '@aws-sdk/client-s3'`) that Node's own resolution does not find from
// the importing file is looked up again in each NODE_PATH directory, in
// order. require() has always read NODE_PATH; import does not, and that
// is where the layers' node_modules and the AWS SDK updraft provides
// are, as on Lambda, where ES module handlers import the bundled SDK.
// The function's own node_modules is still found first, by Node itself.
//
// loader.mjs installs these before it imports the first ES module:
// resolveSync with module.registerHooks where Node has it (in-thread),
// else resolve with module.register (a hooks thread).

import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Resolving "from" a file inside a node_modules directory makes Node
// look in that directory.
const parents = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean)
  .map((dir) => pathToFileURL(path.join(dir, 'updraft-resolve.mjs')).href);

// bare reports whether specifier names a package (not a path or URL).
function bare(specifier) {
  return !/^(\.|\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

function notFound(err) {
  return err?.code === 'ERR_MODULE_NOT_FOUND';
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (!notFound(err) || !bare(specifier)) throw err;
    for (const parentURL of parents) {
      try {
        return await next(specifier, { ...context, parentURL });
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    }
    throw err;
  }
}

export function resolveSync(specifier, context, next) {
  try {
    return next(specifier, context);
  } catch (err) {
    if (!notFound(err) || !bare(specifier)) throw err;
    for (const parentURL of parents) {
      try {
        return next(specifier, { ...context, parentURL });
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    }
    throw err;
  }
}
