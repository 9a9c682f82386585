/**
 * What `gatehouse init` asks: compound and gateway ids, time zone, uplink, which families
 * with how many devices, and where the serial lines are. The same answers come from flags,
 * from an answers file (YAML or JSON, for scripted rollouts of many boxes) or from a short
 * dialogue on a terminal; flags win over the file, and the dialogue only asks what is
 * still missing.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Id } from '../../config/common.js';

/** One device of a family: just its id, or its id with what the installer already knows. */
const DeviceAnswer = z.union([
  Id,
  z
    .object({
      id: Id,
      name: z.string().min(1).max(120).optional(),
      /** Camera host, or the DC-09 panel's account. */
      host: z.string().min(1).optional(),
      account: z
        .string()
        .regex(/^[0-9A-Fa-f]{3,16}$/)
        .optional(),
      /** OSDP address of a reader, Modbus unit id of a cabinet or input module. */
      address: z.number().int().min(0).max(247).optional(),
      ports: z.number().int().min(1).max(24).optional(),
      channels: z.union([z.literal(8), z.literal(16)]).optional(),
    })
    .strict(),
]);
export type DeviceAnswer = z.infer<typeof DeviceAnswer>;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const Answers = z
  .object({
    compound: Id,
    compoundName: z.string().min(1).max(200).optional(),
    gateway: Id,
    timezone: z.string().refine(validTimeZone, 'must be an IANA time zone such as Asia/Shanghai').default('UTC'),
    /** The district platform's broker; none = the embedded broker only. */
    uplink: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
      .optional(),
    uplinkUsername: z.string().min(1).optional(),
    /** The platform-issued password (answers file or dialogue only: never a flag, it would sit in the shell history). */
    uplinkPassword: z.string().min(1).optional(),
    /** The compound LAN address of this box: where locks and alarm panels connect. */
    lan: z.string().min(1).default('127.0.0.1'),
    osdpPath: z.string().min(1).default('/dev/ttyUSB0'),
    modbusPath: z.string().min(1).default('/dev/ttyUSB1'),
    modbusBaud: z.number().int().min(1200).max(921_600).default(9600),
    /** Readers: `install` lets the gateway set each reader's key at first contact; `generate` writes keys to set by hand. */
    readerKeys: z.enum(['install', 'generate']).default('install'),
    /** Family name → how many devices, or their ids. */
    families: z.record(z.string(), z.union([z.number().int().min(1).max(500), z.array(DeviceAnswer).min(1)])),
  })
  .strict();
export type Answers = z.infer<typeof Answers>;
export type RawAnswers = Partial<Record<keyof z.input<typeof Answers>, unknown>>;

/** `locks:3,access,cameras:gate-cam+yard-cam` → `{ locks: 3, access: 1, cameras: ['gate-cam', 'yard-cam'] }`. */
export function parseFamiliesList(text: string): Record<string, number | string[]> {
  const out: Record<string, number | string[]> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, what] = part.split(':', 2) as [string, string | undefined];
    if (what === undefined) out[name] = 1;
    else if (/^\d+$/.test(what)) out[name] = Number(what);
    else out[name] = what.split('+').filter(Boolean);
  }
  return out;
}

/** An answers file: YAML (JSON is YAML too). */
export function readAnswersFile(file: string): RawAnswers {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the answers file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const raw: unknown = parseYaml(text);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: an answers file is a map of answers`);
  return raw;
}

/** Every problem of a set of answers, as `key: message` lines. */
export function answerProblems(err: z.ZodError): string[] {
  return err.issues.map((i) => `${i.path.join('.') || '(answers)'}: ${i.message}`);
}

export interface DialogueIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
}

/**
 * Asks on the terminal for what `raw` lacks (the required answers, and the uplink and the
 * LAN address when they matter). Each question shows its default in brackets. The uplink
 * password is not asked: the terminal would echo it (answers file, or the secrets file later).
 */
export async function askMissing(raw: RawAnswers, familyNames: readonly string[], io: DialogueIo): Promise<RawAnswers> {
  // Lines are read through the iterator, which queues them: answers typed ahead (or pasted
  // at once) are not lost between two questions. The terminal itself echoes and edits the line.
  const rl = createInterface({ input: io.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const out: RawAnswers = { ...raw };
  // A wrong answer is said at once and asked again, not after the whole dialogue.
  const ask = async (question: string, fallback?: string, key?: keyof typeof Answers.shape): Promise<string | undefined> => {
    for (;;) {
      io.stdout.write(`${question}${fallback ? ` [${fallback}]` : ''}: `);
      const next = await lines.next();
      if (next.done) throw new Error('the terminal closed before every question was answered; nothing was written');
      const a = String(next.value).trim() || fallback;
      const checked = key && a !== undefined ? Answers.shape[key].safeParse(a) : undefined;
      if (!checked || checked.success) return a;
      io.stdout.write(`  ${checked.error.issues[0]?.message ?? 'not a usable answer'}; again:\n`);
    }
  };
  try {
    io.stdout.write('gatehouse init: a few questions; Enter takes the answer in brackets.\n');
    if (out.compound === undefined) out.compound = await ask('Compound id (a-z, 0-9, -), e.g. maple-court', undefined, 'compound');
    if (out.compoundName === undefined) out.compoundName = await ask('Compound name, as people say it (optional)');
    if (out.gateway === undefined) out.gateway = await ask('Gateway id of this box', 'gw-1', 'gateway');
    if (out.timezone === undefined)
      out.timezone = await ask('Time zone', Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', 'timezone');
    if (out.uplink === undefined) out.uplink = await ask('Uplink URL of the district platform (empty: none yet)', undefined, 'uplink');
    if (out.uplink && out.uplinkUsername === undefined)
      out.uplinkUsername = await ask('Uplink username', `${String(out.compound)}-${String(out.gateway)}`);
    if (out.families === undefined) {
      for (;;) {
        const list = await ask(`Families, with device counts (${familyNames.join(', ')}), e.g. locks:12,access:2`);
        out.families = list ? parseFamiliesList(list) : undefined;
        const unknown = Object.keys(out.families ?? {}).filter((f) => !familyNames.includes(f));
        if (out.families && !unknown.length) break;
        io.stdout.write(`  ${unknown.length ? `unknown: ${unknown.join(', ')}` : 'at least one family'}; again:\n`);
      }
    }
    const families = (out.families ?? {}) as Record<string, unknown>;
    if (out.lan === undefined && ('locks' in families || 'dc09' in families))
      out.lan = await ask('LAN address of this box (locks and alarm panels connect to it)', '127.0.0.1');
    if (out.osdpPath === undefined && 'access' in families) out.osdpPath = await ask('RS-485 line of the OSDP readers', '/dev/ttyUSB0');
    if (out.modbusPath === undefined && ('cabinets' in families || 'perimeter' in families))
      out.modbusPath = await ask('RS-485 line of the Modbus units (cabinets, input modules)', '/dev/ttyUSB1');
  } finally {
    rl.close();
  }
  return out;
}
