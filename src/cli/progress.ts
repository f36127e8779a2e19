import { count } from './output';

export interface ProgressState {
  label: string;
  /** 0…1, or null when unknown (a spinner-less bar then shows only rates). */
  fraction: number | null;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
}

const BAR = 24;
const TTY_INTERVAL_MS = 100;
const LOG_INTERVAL_MS = 5000;

/**
 * A progress line on stderr: a redrawn bar with rows/s and ETA on a terminal; plain log lines
 * (on a change of step, and every 5 s) when stderr is a file or a pipe, so CI logs stay readable.
 */
export class ProgressReporter {
  private lastDraw = 0;
  private lastLabel = '';
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(state: ProgressState): void {
    const now = Date.now();
    const changed = state.label !== this.lastLabel;
    if (this.stream.isTTY) {
      if (!changed && now - this.lastDraw < TTY_INTERVAL_MS) return;
      this.stream.write(`\r\x1b[2K${render(state, true)}`);
      this.drawn = true;
    } else {
      if (!changed && now - this.lastDraw < LOG_INTERVAL_MS) return;
      this.stream.write(`${render(state, false)}\n`);
    }
    this.lastDraw = now;
    this.lastLabel = state.label;
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

export function render(state: ProgressState, bar: boolean): string {
  const parts = [state.label];
  if (state.fraction !== null) {
    const filled = Math.round(Math.min(1, Math.max(0, state.fraction)) * BAR);
    parts.push(bar ? `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${percent(state.fraction)}` : percent(state.fraction));
  }
  if (state.rowsPerSecond !== null) parts.push(`${count(Math.round(state.rowsPerSecond))} rows/s`);
  if (state.etaSeconds !== null && Number.isFinite(state.etaSeconds)) parts.push(`ETA ${duration(state.etaSeconds)}`);
  return parts.join('  ');
}

function percent(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`.padStart(4);
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.ceil(seconds - minutes * 60)).padStart(2, '0')}s`;
}
