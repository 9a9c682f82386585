/**
 * `node --import ./tests/helpers/module-log-hooks.mjs …`: appends the URL of every module
 * loaded through the ESM loader to the file GATEHOUSE_MODULE_LOG names, so a test can
 * tell which of our modules (and which packages) a process really imported.
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

export async function load(url, context, nextLoad) {
  if (process.env.GATEHOUSE_MODULE_LOG) appendFileSync(process.env.GATEHOUSE_MODULE_LOG, `${url}\n`);
  return nextLoad(url, context);
}
