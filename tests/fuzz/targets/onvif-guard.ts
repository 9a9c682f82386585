/**
 * The ONVIF response guard: the check every camera answer passes before its XML is parsed.
 * It must return a coded refusal or nothing for any text, never throw, and stay fast on
 * hostile text (its regular expressions must not backtrack badly; the watchdog catches a hang
 * and the per-input time is checked here). A refusal for a small limit must hold for any text
 * longer than the limit.
 */
import { checkSoapText } from '../../../drivers/onvif/guard.js';
import { GatehouseError } from '../../../gateway/core/errors.js';
import { invariant, text, type FuzzTarget } from '../target.js';

const ENV = 'http://www.w3.org/2003/05/soap-envelope';
// Answers from tests/unit/onvif-guard.test.ts and the camera simulator.
const SEEDS = [
  `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${ENV}"><s:Body><tds:GetSystemDateAndTimeResponse/></s:Body></s:Envelope>`,
  `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>`,
  `<!DOCTYPE x [<!ENTITY a "aaaa">]><s:Envelope xmlns:s="${ENV}"/>`,
  `<!-- c --><env:Envelope xmlns:env='${ENV}' xmlns:tt="http://www.onvif.org/ver10/schema"><env:Body/></env:Envelope>`,
  '<html><body>404</body></html>',
];
/** Far above what the regexes need over 4 KB (~0.1 ms), well above GC pauses; quadratic backtracking shows up here. */
const SLOW_MS = 250;

export const target: FuzzTarget = {
  name: 'onvif-guard',
  seeds: () => SEEDS.map((s) => Uint8Array.of(0, ...text(s))),
  fuzz(d) {
    if (d.length < 1) return;
    const xml = Buffer.from(d.subarray(1)).toString(d[0]! & 1 ? 'latin1' : 'utf8');
    const limit = d[0]! & 2 ? 256 : undefined;
    const timed = (): [ReturnType<typeof checkSoapText>, number] => {
      const t0 = performance.now();
      const result = checkSoapText(xml, limit);
      return [result, performance.now() - t0];
    };
    const [r, ms] = timed();
    if (ms >= SLOW_MS) {
      // A GC pause or a busy machine can stall one call (seen: 264 ms on 78 characters that take
      // 6 µs); slow input is slow every time, so only the fastest of three counts.
      const best = Math.min(ms, timed()[1], timed()[1]);
      invariant(best < SLOW_MS, `checkSoapText took ${best.toFixed(1)} ms (best of 3) on ${xml.length} characters`);
    }
    if (r !== undefined)
      invariant(r instanceof GatehouseError && r.code === 'DEVICE_RESPONSE_REFUSED', `a coded refusal, got ${String(r)}`);
    if (limit !== undefined && Buffer.byteLength(xml) > limit) invariant(r?.details?.reason === 'too_large', 'too large is refused');
  },
  dictionary: [
    '<',
    '>',
    '</',
    '/>',
    '<?xml version="1.0"?>',
    '<!--',
    '-->',
    '<!DOCTYPE',
    '<!ENTITY',
    'xmlns',
    'xmlns:s=',
    `"${ENV}"`,
    ':Envelope',
    'Envelope',
    ' ',
    '"',
    "'",
    '=',
  ],
  maxLength: 4096,
};
