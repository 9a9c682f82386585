/**
 * Progress of a scan (`discover --modbus`, `discover --osdp`) for an installer waiting at a
 * laptop: on a terminal one bar redrawn in place with the time left; elsewhere (a pipe, a
 * log, CI) plain lines — one per tenth of the scan and one per device found — because
 * carriage returns make a mess of a file. Written to stderr by the callers, so stdout
 * holds only the results and the YAML to paste.
 */
import type { Clock } from '../core/clock.js';

export interface ProgressOut {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Items to go through (unit ids, addresses). */
  total: number;
  /** What the items are called, plural: "unit ids", "addresses". */
  items: string;
  out: ProgressOut;
  clock: Clock;
  /** Defaults to `out.isTTY`. */
  tty?: boolean;
}

const BAR = 24;

export class ScanProgress {
  private readonly started: number;
  private readonly tty: boolean;
  private done = 0;
  private found = 0;
  private current = '';
  private lastTenth = 0;
  private drawn = false;

  constructor(private readonly o: ProgressOptions) {
    this.started = o.clock.monotonic();
    this.tty = o.tty ?? o.out.isTTY === true;
  }

  /** One item is done: `label` is the item just asked ("unit 17"); `foundLine` what answered there, if anything. */
  step(label: string, foundLine?: string): void {
    this.done++;
    this.current = label;
    if (foundLine !== undefined) {
      this.found++;
      this.print(`found: ${foundLine}`);
    }
    if (this.tty) return this.draw();
    const tenth = Math.floor((this.done * 10) / Math.max(1, this.o.total));
    if (tenth > this.lastTenth || this.done === this.o.total) {
      this.lastTenth = tenth;
      this.o.out.write(`${this.summary()}\n`);
    }
  }

  /** A line that stays (a device found, "stopping…"), printed above the bar. */
  line(text: string): void {
    const drawn = this.drawn;
    this.print(text);
    if (drawn) this.draw();
  }

  private print(text: string): void {
    if (this.tty && this.drawn) this.o.out.write('\r\x1b[2K');
    this.drawn = false;
    this.o.out.write(`${text}\n`);
  }

  /** Removes the bar (a terminal) before the results are printed. */
  end(): void {
    if (this.tty && this.drawn) this.o.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  /** Seconds left at the pace so far; undefined before the first item. */
  secondsLeft(): number | undefined {
    if (this.done === 0) return undefined;
    const perItem = (this.o.clock.monotonic() - this.started) / this.done;
    return Math.ceil((perItem * (this.o.total - this.done)) / 1000);
  }

  private summary(): string {
    const pct = Math.floor((this.done * 100) / Math.max(1, this.o.total));
    const left = this.secondsLeft();
    return (
      `scanned ${this.done}/${this.o.total} ${this.o.items} (${pct}%), ${this.found} found` +
      (this.done < this.o.total && left !== undefined ? `, about ${formatSeconds(left)} left` : '')
    );
  }

  private draw(): void {
    const filled = Math.round((this.done * BAR) / Math.max(1, this.o.total));
    const left = this.secondsLeft();
    const text =
      `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${this.done}/${this.o.total} ${this.current} · ${this.found} found` +
      (this.done < this.o.total && left !== undefined ? ` · ~${formatSeconds(left)} left` : '');
    const width = this.o.out.columns || 80;
    this.o.out.write(`\r\x1b[2K${text.slice(0, Math.max(20, width - 1))}`);
    this.drawn = true;
  }
}

export function formatSeconds(s: number): string {
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
