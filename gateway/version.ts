import { createRequire } from 'node:module';

/** The package version, read once from package.json (works from source and from dist/). */
function readVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../package.json', '../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      /* try the next location */
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
