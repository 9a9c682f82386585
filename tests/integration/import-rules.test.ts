/**
 * The import rules of `.dependency-cruiser.cjs` really catch what they are written for: the
 * real dependency-cruiser runs with the project's config on a small tree made here, one
 * file per forbidden import, and must name each rule at the right file. (`npm test` runs the
 * same config on the real tree; a rule whose path pattern matched nothing would pass there
 * forever, so each one is shown failing here.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Lays out `files` (path → source) under a fresh directory with a package.json and tsconfig. */
function layTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-import-rules-'));
  const pkg = { name: 'fixture', type: 'module', dependencies: { zod: '*' }, devDependencies: { vitest: '*' } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  // npm packages resolve to a node_modules folder that declares them.
  for (const name of ['zod', 'vitest', 'leftpad']) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
    writeFileSync(join(dir, 'node_modules', name, 'index.js'), 'export const x = 1;\n');
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Runs dependency-cruiser with the project's config in `dir`; resolves with its violations. */
function cruise(dir: string): Promise<Violation[]> {
  const args = [DEPCRUISE, '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  args.push(...['gateway', 'drivers', 'sim', 'config', 'tests']);
  return new Promise((resolveRun, reject) => {
    execFile(process.execPath, args, { cwd: dir, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      // Exit code = number of errors; the JSON on stdout is the answer either way.
      try {
        const out = JSON.parse(stdout) as { summary: { violations: Violation[] } };
        resolveRun(out.summary.violations);
      } catch {
        reject(new Error(`depcruise gave no JSON (${String(err)}): ${stderr}`));
      }
    });
  });
}

const exp = 'export const x = 1;\n';

describe('import rules (.dependency-cruiser.cjs)', () => {
  let dir: string;
  let violations: Violation[];

  beforeAll(async () => {
    dir = layTree({
      // Allowed: every layer as the rules mean it.
      'gateway/core/clock.ts': `import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nexport const c = [z, readFileSync];\n`,
      'gateway/core/log.ts': `import { c } from './clock.js';\nexport const l = c;\n`,
      'drivers/osdp/codec.ts': `import { l } from '../../gateway/core/log.js';\nexport const codec = l;\n`,
      'drivers/osdp/line.ts': `import { codec } from './codec.js';\nexport const line = codec;\n`,
      'sim/osdp/reader.ts': `import { line } from '../../drivers/osdp/line.js';\nimport { l } from '../../gateway/core/log.js';\nexport const r = [line, l];\n`,
      'sim/osdp/scenario.ts': `import type { s } from '../../config/schema.js';\nexport type Slice = typeof s;\n`,
      'gateway/families/family.ts': exp,
      'config/schema.ts': `import { x } from '../gateway/families/family.js';\nimport { l } from '../gateway/core/log.js';\nexport const s = [x, l];\n`,
      'gateway/app.ts': `import { s } from '../config/schema.js';\nimport { line } from '../drivers/osdp/line.js';\nexport const app = [s, line];\n`,
      'gateway/demo/index.ts': `import { r } from '../../sim/osdp/reader.js';\nimport { app } from '../app.js';\nexport const d = [r, app];\n`,
      'tests/any.test.ts': `import { d } from '../gateway/demo/index.js';\nimport { r } from '../sim/osdp/reader.js';\nimport { x } from 'vitest';\nexport const t = [d, r, x];\n`,
      // Forbidden, one per rule.
      'gateway/core/ids.ts': `import { app } from '../app.js';\nexport const ids = app;\n`,
      'drivers/modbus/bus.ts': `import type { s } from '../../config/schema.js';\nexport type B = typeof s;\n`,
      'sim/modbus/slave.ts': `import { app } from '../../gateway/app.js';\nexport const slave = app;\n`,
      'sim/cabinet/scenario.ts': `import { s } from '../../config/schema.js';\nexport const parsed = s;\n`,
      'config/load.ts': `import { codec } from '../drivers/osdp/codec.js';\nexport const load = codec;\n`,
      'gateway/uplink/link.ts': `import { r } from '../../sim/osdp/reader.js';\nexport const link = r;\n`,
      'gateway/cycle-a.ts': `import { b } from './cycle-b.js';\nexport const a = () => b;\n`,
      'gateway/cycle-b.ts': `import { a } from './cycle-a.js';\nexport const b = () => a;\n`,
      // Allowed: cycles that cannot make a load-order bug (erased types; a lazy load()).
      'gateway/types-a.ts': `import type { B } from './types-b.js';\nexport type A = { b?: B };\n`,
      'gateway/types-b.ts': `import type { A } from './types-a.js';\nexport type B = { a?: A };\n`,
      'gateway/lazy-manifest.ts': `export const load = () => import('./lazy-code.js');\n`,
      'gateway/lazy-code.ts': `import { load } from './lazy-manifest.js';\nexport const again = load;\n`,
      'gateway/stale.ts': `import { gone } from './moved-away.js';\nexport const stale = gone;\n`,
      'gateway/devdep.ts': `import { x } from 'vitest';\nexport const dev = x;\n`,
      'gateway/undeclared.ts': `import { x } from 'leftpad';\nexport const u = x;\n`,
    });
    violations = await cruise(dir);
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const broken = (rule: string) =>
    violations
      .filter((v) => v.rule.name === rule)
      .map((v) => v.from)
      .sort();

  it('core imports nothing of ours', () => {
    expect(broken('core-imports-nothing-of-ours')).toEqual(['gateway/core/ids.ts']);
  });

  it('drivers import only drivers and the core, type-only imports included', () => {
    expect(broken('drivers-import-only-drivers-and-core')).toEqual(['drivers/modbus/bus.ts']);
  });

  it('simulators import only sim, drivers and the core', () => {
    expect(broken('sim-imports-only-sim-drivers-and-core')).toEqual(['sim/modbus/slave.ts']);
  });

  it('simulators use config slices but never run the composed schema or the loader', () => {
    expect(broken('sim-reads-config-slices-only')).toEqual(['sim/cabinet/scenario.ts']);
  });

  it('config imports only the core and the family manifests', () => {
    expect(broken('config-imports-only-core-and-family-manifests')).toEqual(['config/load.ts']);
  });

  it('the daemon never imports a simulator; a demo entry under gateway/demo/ and tests may', () => {
    expect(broken('daemon-never-imports-sim')).toEqual(['gateway/uplink/link.ts']);
  });

  it('a cycle of modules that load each other is found (type-only and lazy-import cycles are not: see the config)', () => {
    // A cycle is reported once, from whichever of its modules the cruise met first.
    expect(broken('no-circular')).toHaveLength(1);
    expect(['gateway/cycle-a.ts', 'gateway/cycle-b.ts']).toContain(broken('no-circular')[0]);
  });

  it('an import that resolves to nothing is an error (it would hide from every other rule)', () => {
    expect(broken('no-unresolvable')).toEqual(['gateway/stale.ts']);
  });

  it('shipped code needs no devDependency and no undeclared package', () => {
    expect(broken('shipped-code-uses-no-dev-dependency')).toEqual(['gateway/devdep.ts']);
    expect(broken('no-undeclared-package')).toEqual(['gateway/undeclared.ts']);
  });

  it('nothing else is reported: the allowed imports of every layer pass', () => {
    const expected = new Set(['gateway/core/ids.ts', 'drivers/modbus/bus.ts', 'sim/modbus/slave.ts', 'config/load.ts']);
    for (const f of ['gateway/uplink/link.ts', 'gateway/cycle-a.ts', 'gateway/cycle-b.ts', 'gateway/stale.ts']) expected.add(f);
    for (const f of ['gateway/devdep.ts', 'gateway/undeclared.ts', 'sim/cabinet/scenario.ts']) expected.add(f);
    expect(violations.filter((v) => !expected.has(v.from))).toEqual([]);
  });
});
