/**
 * The demo finds each family's scenario next to its simulator, without a central list, and the
 * daemon's own modules never import the simulators (only gateway/demo/, which cli.ts loads for
 * `demo` and `sim`, does).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenarios } from '../../sim/scenarios.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'demo-scenarios');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Module specifiers of the static and dynamic imports of a file (type-only imports apart). */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const found: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm))
    found.push({ spec: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push({ spec: m[1]!, typeOnly: false });
  return found;
}

describe('demo scenarios', () => {
  it("finds every family's scenario in sim/, in the demo's order", async () => {
    const scenarios = await loadScenarios();
    expect(scenarios.map((s) => s.family)).toEqual(['locks', 'cabinets', 'swap', 'access', 'perimeter', 'dc09', 'cameras']);
  });

  it('a new family joins with one file: folders without a scenario are skipped, order is the declared one', async () => {
    const found = await loadScenarios(FIXTURES);
    expect(found.map((s) => s.family)).toEqual(['beta', 'alpha']);
    await expect(loadScenarios(`${FIXTURES}-broken`)).rejects.toThrow(/broken\/demo-scenario\.ts exports no `scenario`/);
  });

  it('no module of the daemon imports sim/; only gateway/demo/ does', () => {
    const offenders: string[] = [];
    for (const file of sources(join(ROOT, 'gateway'))) {
      const rel = relative(ROOT, file);
      if (rel.startsWith(join('gateway', 'demo') + '/')) continue;
      for (const { spec } of imports(file)) if (/(^|\/)sim\//.test(spec)) offenders.push(`${rel} imports ${spec}`);
    }
    expect(offenders).toEqual([]);
  });

  it('scenarios import drivers, the core and sim only, and config slices (the composed schema and the loader for their types only)', () => {
    const offenders: string[] = [];
    for (const file of [join(ROOT, 'sim', 'scenarios.ts'), ...sources(join(ROOT, 'sim')).filter((f) => f.endsWith('demo-scenario.ts'))]) {
      for (const { spec, typeOnly } of imports(file)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, join(file, '..', spec));
        const composed = /^config\/(schema|load)\.js$/.test(target);
        const ok =
          target.startsWith('sim/') ||
          target.startsWith('drivers/') ||
          target.startsWith('gateway/core/') ||
          (target.startsWith('config/') && (typeOnly || !composed));
        if (!ok) offenders.push(`${relative(ROOT, file)} imports ${spec}${typeOnly ? ' (type)' : ''}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
