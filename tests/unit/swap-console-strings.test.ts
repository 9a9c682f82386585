/**
 * The swap console view (gateway/console/public/views/swap.js) speaks English and Simplified
 * Chinese: every key it asks t() for, and every charger state and phase the retained state
 * can carry, has a text in both languages (a missing one would show the raw key to a guard).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain browser ES module without types
import { STRINGS } from '../../gateway/console/public/strings.js';
import { CHARGER_STATES } from '../../drivers/swap/register-map.js';
import { swapConsole } from '../../gateway/swap/console.js';

const strings = STRINGS as Record<string, Record<string, string>>;

describe('swap console view strings', () => {
  const source = readFileSync(new URL('../../gateway/console/public/views/swap.js', import.meta.url), 'utf8');
  const literal = [...source.matchAll(/\bt\('([^'$]+)'\)/g)].map((m) => m[1]!);
  const keys = [
    ...literal,
    ...CHARGER_STATES.map((c) => `charger.${c}`),
    'charger.unknown', // a charger register outside the map (drivers/swap/reading-decode.ts)
    'phase.returning',
    'phase.issuing',
    ...(swapConsole.views ?? []).map((v) => `nav.${v.route}`),
    'dkind.swap-cabinet',
  ];

  it('has every key in English and Simplified Chinese', () => {
    expect(literal.length).toBeGreaterThan(10);
    for (const lang of ['en', 'zh-CN']) {
      const missing = keys.filter((k) => typeof strings[lang]![k] !== 'string' || strings[lang]![k] === '');
      expect(missing, `${lang} misses`).toEqual([]);
    }
    expect(strings['zh-CN']!['nav.swap']).not.toBe(strings.en!['nav.swap']);
  });
});
