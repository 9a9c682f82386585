/**
 * The normalised panel event both payload formats (SIA-DCS, ADM-CID) decode to, and the
 * code tables behind it. The gateway reacts to `kind` and `category`; `code` and `text`
 * keep what the panel actually said for the guard and the platform.
 */
export type PanelEventKind = 'alarm' | 'restore' | 'trouble' | 'open' | 'close' | 'bypass' | 'test' | 'other';

export type PanelEventCategory =
  | 'burglary'
  | 'perimeter'
  | 'fire'
  | 'panic'
  | 'duress'
  | 'medical'
  | 'tamper'
  | 'water'
  | 'gas'
  | 'ac'
  | 'battery'
  | 'comm'
  | 'sensor'
  | 'system'
  | 'arming'
  | 'test'
  | 'program'
  | 'other';

export interface PanelEvent {
  protocol: 'SIA-DCS' | 'ADM-CID';
  kind: PanelEventKind;
  category: PanelEventCategory;
  /** Area / partition (SIA `ri`, Contact ID group); null when the panel did not say. */
  area: number | null;
  /** Zone; null for user events (open/close) and when absent. */
  zone: number | null;
  /** User number of an open/close (SIA `id` or the address of OP/CL, Contact ID 4xx). */
  user?: number;
  /** The panel's code as sent: `BA`, `OP`... or Contact ID `E130`/`R130`/`P130` (qualifier + event). */
  code: string;
  text: string;
  /** For kind 'restore': what is being restored, so the right condition is cleared. */
  restoreOf?: 'alarm' | 'trouble';
  /** For kind 'bypass': true when the zone is put back in service (SIA BU, Contact ID 570 qualifier 3). */
  restored?: boolean;
  /** Free text the panel appended (SIA `^...^`). */
  note?: string;
  /** Text of the message's ASCII `A` block(s) (SIA `|Atext`). */
  panelText?: string;
  /** SIA data blocks of other kinds, as sent. */
  blocks?: string[];
}

/** How a code behaves before the qualifier (Contact ID) or the code pair (SIA) says new/restore. */
type Base = 'alarm' | 'trouble' | 'openclose' | 'bypass' | 'test' | 'other';
export type CodeEntry = readonly [Base, PanelEventCategory, string];

/**
 * Contact ID (SIA DC-05) event codes, the subset residential panels send. Checked against the
 * DC-05 list: 116 (duct) and 353 (long range radio transmitter fault) added with the other
 * residential codes that were missing; 118 is "near alarm" (was "probable fire"), 133 is
 * "24 hour (safe)", 139 "intrusion verifier", 321 "bell 1". Codes not here are recorded as
 * `panel.event` with their number, never dropped.
 */
export const CONTACT_ID_CODES: Readonly<Record<string, CodeEntry>> = {
  '100': ['alarm', 'medical', 'Medical alarm'],
  '101': ['alarm', 'medical', 'Personal emergency'],
  '110': ['alarm', 'fire', 'Fire alarm'],
  '111': ['alarm', 'fire', 'Smoke'],
  '112': ['alarm', 'fire', 'Combustion'],
  '113': ['alarm', 'fire', 'Water flow'],
  '114': ['alarm', 'fire', 'Heat'],
  '115': ['alarm', 'fire', 'Pull station'],
  '116': ['alarm', 'fire', 'Duct'],
  '117': ['alarm', 'fire', 'Flame'],
  '118': ['alarm', 'fire', 'Near alarm'],
  '120': ['alarm', 'panic', 'Panic alarm'],
  '121': ['alarm', 'duress', 'Duress'],
  '122': ['alarm', 'panic', 'Silent panic'],
  '123': ['alarm', 'panic', 'Audible panic'],
  '124': ['alarm', 'duress', 'Duress, access granted'],
  '125': ['alarm', 'duress', 'Duress, egress granted'],
  '130': ['alarm', 'burglary', 'Burglary'],
  '131': ['alarm', 'perimeter', 'Perimeter burglary'],
  '132': ['alarm', 'burglary', 'Interior burglary'],
  '133': ['alarm', 'burglary', '24 hour (safe)'],
  '134': ['alarm', 'burglary', 'Entry/exit burglary'],
  '135': ['alarm', 'burglary', 'Day/night burglary'],
  '136': ['alarm', 'burglary', 'Outdoor burglary'],
  '137': ['alarm', 'tamper', 'Tamper'],
  '138': ['alarm', 'burglary', 'Near alarm'],
  '139': ['alarm', 'burglary', 'Intrusion verifier'],
  '140': ['alarm', 'burglary', 'General alarm'],
  '143': ['trouble', 'system', 'Expansion module failure'],
  '144': ['alarm', 'tamper', 'Sensor tamper'],
  '145': ['alarm', 'tamper', 'Expansion module tamper'],
  '146': ['alarm', 'burglary', 'Silent burglary'],
  '147': ['trouble', 'sensor', 'Sensor supervision failure'],
  '151': ['alarm', 'gas', 'Gas detected'],
  '154': ['alarm', 'water', 'Water leakage'],
  '162': ['alarm', 'gas', 'Carbon monoxide detected'],
  '300': ['trouble', 'system', 'System trouble'],
  '301': ['trouble', 'ac', 'AC loss'],
  '302': ['trouble', 'battery', 'Low system battery'],
  '305': ['other', 'system', 'System reset'],
  '309': ['trouble', 'battery', 'Battery test failure'],
  '311': ['trouble', 'battery', 'Battery missing/dead'],
  '312': ['trouble', 'system', 'Power supply overcurrent'],
  '320': ['trouble', 'system', 'Sounder/relay trouble'],
  '321': ['trouble', 'system', 'Bell 1 trouble'],
  '322': ['trouble', 'system', 'Bell 2 trouble'],
  '333': ['trouble', 'system', 'Expansion module failure'],
  '344': ['trouble', 'comm', 'RF receiver jam'],
  '350': ['trouble', 'comm', 'Communication trouble'],
  '351': ['trouble', 'comm', 'Telco 1 fault'],
  '352': ['trouble', 'comm', 'Telco 2 fault'],
  '353': ['trouble', 'comm', 'Long range radio transmitter fault'],
  '354': ['trouble', 'comm', 'Failure to communicate event'],
  '355': ['trouble', 'comm', 'Loss of radio supervision'],
  '356': ['trouble', 'comm', 'Loss of central polling'],
  '373': ['trouble', 'fire', 'Fire loop trouble'],
  '380': ['trouble', 'sensor', 'Sensor trouble'],
  '381': ['trouble', 'sensor', 'Loss of RF supervision'],
  '383': ['alarm', 'tamper', 'Sensor tamper'],
  '384': ['trouble', 'battery', 'RF sensor low battery'],
  '393': ['trouble', 'sensor', 'Maintenance alert'],
  '400': ['openclose', 'arming', 'Open/close'],
  '401': ['openclose', 'arming', 'Open/close by user'],
  '402': ['openclose', 'arming', 'Group open/close'],
  '403': ['openclose', 'arming', 'Automatic open/close'],
  '407': ['openclose', 'arming', 'Remote arm/disarm'],
  '408': ['openclose', 'arming', 'Quick arm'],
  '409': ['openclose', 'arming', 'Keyswitch open/close'],
  '441': ['openclose', 'arming', 'Armed stay'],
  '442': ['openclose', 'arming', 'Keyswitch armed stay'],
  '570': ['bypass', 'burglary', 'Zone bypass'],
  '571': ['bypass', 'fire', 'Fire bypass'],
  '572': ['bypass', 'burglary', '24 hour zone bypass'],
  '573': ['bypass', 'burglary', 'Burglary bypass'],
  '574': ['bypass', 'burglary', 'Group bypass'],
  '601': ['test', 'test', 'Manual test'],
  '602': ['test', 'test', 'Periodic test'],
  '603': ['test', 'test', 'Periodic RF transmission'],
  '604': ['test', 'fire', 'Fire test'],
  '607': ['other', 'test', 'Walk test mode'],
  '608': ['test', 'test', 'Periodic test, system trouble present'],
  '627': ['other', 'program', 'Program mode entry'],
  '628': ['other', 'program', 'Program mode exit'],
};

/**
 * SIA (DC-03) event codes. A new condition and its restore are two codes here (BA/BR), so
 * each entry says what the code itself is: `restore` entries name the base they end.
 */
export type SiaEntry = readonly [PanelEventKind, PanelEventCategory, string, ('alarm' | 'trouble')?];
const A = (c: PanelEventCategory, t: string): SiaEntry => ['alarm', c, t];
const R = (c: PanelEventCategory, t: string): SiaEntry => ['restore', c, t, 'alarm'];
const T = (c: PanelEventCategory, t: string): SiaEntry => ['trouble', c, t];
const TR = (c: PanelEventCategory, t: string): SiaEntry => ['restore', c, t, 'trouble'];

export const SIA_CODES: Readonly<Record<string, SiaEntry>> = {
  BA: A('burglary', 'Burglary alarm'),
  BR: R('burglary', 'Burglary restoral'),
  BT: T('burglary', 'Burglary trouble'),
  BJ: TR('burglary', 'Burglary trouble restoral'),
  UA: A('burglary', 'Untyped zone alarm'),
  UR: R('burglary', 'Untyped zone restoral'),
  TA: A('tamper', 'Tamper alarm'),
  TR: R('tamper', 'Tamper restoral'),
  ES: A('tamper', 'Expansion device tamper'),
  EJ: R('tamper', 'Expansion device tamper restoral'),
  FA: A('fire', 'Fire alarm'),
  FR: R('fire', 'Fire restoral'),
  KA: A('fire', 'Heat alarm'),
  KR: R('fire', 'Heat restoral'),
  FT: T('fire', 'Fire trouble'),
  FJ: TR('fire', 'Fire trouble restoral'),
  PA: A('panic', 'Panic alarm'),
  PR: R('panic', 'Panic restoral'),
  QA: A('panic', 'Emergency alarm'),
  QR: R('panic', 'Emergency restoral'),
  HA: A('duress', 'Holdup alarm'),
  HR: R('duress', 'Holdup restoral'),
  MA: A('medical', 'Medical alarm'),
  MR: R('medical', 'Medical restoral'),
  BH: R('burglary', 'Burglary alarm restore'),
  FH: R('fire', 'Fire alarm restore'),
  KH: R('fire', 'Heat alarm restore'),
  PH: R('panic', 'Panic alarm restore'),
  QH: R('panic', 'Emergency alarm restore'),
  HH: R('duress', 'Holdup alarm restore'),
  MH: R('medical', 'Medical alarm restore'),
  WA: A('water', 'Water alarm'),
  WH: R('water', 'Water alarm restoral'),
  GA: A('gas', 'Gas alarm'),
  GH: R('gas', 'Gas alarm restoral'),
  AT: T('ac', 'AC trouble'),
  AR: TR('ac', 'AC restoral'),
  YT: T('battery', 'System battery trouble'),
  YR: TR('battery', 'System battery restoral'),
  XT: T('battery', 'Transmitter battery trouble'),
  XR: TR('battery', 'Transmitter battery restoral'),
  YC: T('comm', 'Communications fail'),
  YK: TR('comm', 'Communications restoral'),
  LT: T('comm', 'Phone line trouble'),
  LR: TR('comm', 'Phone line restoral'),
  ET: T('system', 'Expansion trouble'),
  ER: TR('system', 'Expansion restoral'),
  OP: ['open', 'arming', 'Opening report'],
  CL: ['close', 'arming', 'Closing report'],
  OA: ['open', 'arming', 'Automatic opening'],
  CA: ['close', 'arming', 'Automatic closing'],
  OG: ['open', 'arming', 'Open area'],
  CG: ['close', 'arming', 'Close area'],
  OR: ['open', 'arming', 'Disarm from alarm'],
  NL: ['close', 'arming', 'Perimeter armed'],
  BB: ['bypass', 'burglary', 'Burglary bypass'],
  BU: ['bypass', 'burglary', 'Burglary unbypass'],
  UB: ['bypass', 'burglary', 'Untyped bypass'],
  UU: ['bypass', 'burglary', 'Untyped unbypass'],
  FB: ['bypass', 'fire', 'Fire bypass'],
  FU: ['bypass', 'fire', 'Fire unbypass'],
  TB: ['bypass', 'tamper', 'Tamper bypass'],
  TU: ['bypass', 'tamper', 'Tamper unbypass'],
  RP: ['test', 'test', 'Automatic test'],
  RX: ['test', 'test', 'Manual test'],
  LB: ['other', 'program', 'Local program'],
  LX: ['other', 'program', 'Local programming ended'],
  RR: ['other', 'system', 'Power up'],
};

/** Bypass codes that put a zone back in service. */
export const SIA_UNBYPASS = new Set(['BU', 'UU', 'FU', 'TU']);
/** Codes whose address is a user number rather than a zone. */
export const SIA_USER_CODES = new Set(['OP', 'CL', 'OA', 'CA', 'OG', 'CG', 'OR', 'NL']);
