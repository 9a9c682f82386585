/**
 * The RS-485 line under an OSDP control panel: raw bytes in and out, nothing else. The
 * control panel (control-panel.ts) owns framing, scheduling and timeouts; keeping the line
 * this thin is what lets unit tests put an in-memory line driven by a ManualClock under it.
 */
import { SerialPort } from 'serialport';

export interface OsdpLine {
  /** Opens the line; rejects if it cannot (adapter absent). */
  open(): Promise<void>;
  /** Closes the line; never rejects. */
  close(): Promise<void>;
  /**
   * Writes one whole frame. One write per frame: a frame split over two writes can be
   * stretched by the OS between them, and a PD's inter-character timeout would cut it.
   */
  write(bytes: Uint8Array): void;
  /** The single listener for received bytes. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** The single listener told when an open line goes away on its own (adapter unplugged). */
  onClose(listener: (reason: string) => void): void;
  /** For logs: where this line goes. */
  describe(): string;
}

/** Makes the line for a bus; the control panel calls it once and reopens the same line. */
export type OpenOsdpLine = (path: string, baudRate: number) => OsdpLine;

/**
 * The real line on serialport. A fresh SerialPort per open: after an unplugged adapter the
 * old object keeps a dead file descriptor and stale listeners, and starting clean is
 * cheaper than reasoning about them (the same choice as drivers/modbus/transport.ts).
 */
export class SerialOsdpLine implements OsdpLine {
  private port: SerialPort | undefined;
  private dataListener: ((chunk: Uint8Array) => void) | undefined;
  private closeListener: ((reason: string) => void) | undefined;
  private generation = 0;

  constructor(
    private readonly path: string,
    private readonly baudRate: number,
  ) {}

  describe(): string {
    return `osdp:${this.path}@${this.baudRate}`;
  }
  onData(listener: (chunk: Uint8Array) => void): void {
    this.dataListener = listener;
  }
  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }

  async open(): Promise<void> {
    await this.close();
    const gen = ++this.generation;
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    // Errors surface as 'close' or as a failed open; an unhandled 'error' would crash the daemon.
    port.on('error', () => {});
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    if (gen !== this.generation) {
      // close() was called while opening.
      port.close(() => {});
      throw new Error('line closed while opening');
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.dataListener?.(chunk);
    });
    port.on('close', (err: unknown) => {
      if (gen !== this.generation || this.port !== port) return;
      this.port = undefined;
      const reason = err instanceof Error ? err.message : 'line closed';
      this.closeListener?.(reason);
    });
  }

  close(): Promise<void> {
    this.generation++;
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 500); // a vanished tty may never call back
      t.unref();
      try {
        port.close(() => {
          clearTimeout(t);
          resolve();
        });
      } catch {
        resolve();
      }
    });
  }

  write(bytes: Uint8Array): void {
    const port = this.port;
    if (!port?.isOpen) return; // the reply timeout turns this into a miss; the close event reopens
    port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
}

export const openSerialLine: OpenOsdpLine = (path, baudRate) => new SerialOsdpLine(path, baudRate);
