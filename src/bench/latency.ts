/**
 * Latency samples of a benchmark run: every sample kept (microseconds, in a growable
 * Float64Array), sorted once at the end, so the percentiles are exact rather than
 * bucketed. A million samples take 8 MB.
 */

export interface LatencySummary {
  /** samples */
  count: number;
  /** milliseconds */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export const EMPTY_SUMMARY: LatencySummary = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

export class LatencyRecorder {
  #buf = new Float64Array(4096);
  #n = 0;
  #sorted: Float64Array | null = null;

  get count(): number {
    return this.#n;
  }

  /** One sample, in microseconds. */
  record(us: number): void {
    if (this.#n === this.#buf.length) {
      const bigger = new Float64Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    this.#buf[this.#n++] = us;
    this.#sorted = null;
  }

  /** The samples, ascending (microseconds). */
  sorted(): Float64Array {
    if (this.#sorted === null) this.#sorted = this.#buf.slice(0, this.#n).sort();
    return this.#sorted;
  }

  /** Nearest-rank percentile (0 < p <= 100), milliseconds. */
  percentileMs(p: number): number {
    const s = this.sorted();
    if (s.length === 0) return 0;
    const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
    return s[rank]! / 1000;
  }

  summary(): LatencySummary {
    const s = this.sorted();
    if (s.length === 0) return { ...EMPTY_SUMMARY };
    let sum = 0;
    for (let i = 0; i < s.length; i++) sum += s[i]!;
    return {
      count: s.length,
      min: s[0]! / 1000,
      mean: sum / s.length / 1000,
      p50: this.percentileMs(50),
      p90: this.percentileMs(90),
      p99: this.percentileMs(99),
      p999: this.percentileMs(99.9),
      max: s[s.length - 1]! / 1000,
    };
  }

  /**
   * The latency curve for charts: [percentile, ms] at 0, 10, ..., 90, 99, 99.9, ...,
   * up to the largest sample.
   */
  curve(): [number, number][] {
    const s = this.sorted();
    if (s.length === 0) return [];
    const out: [number, number][] = [];
    for (const p of [0.1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99]) {
      if (p < 100 - 100 / s.length || p <= 50) out.push([p, this.percentileMs(p)]);
    }
    out.push([100, s[s.length - 1]! / 1000]);
    return out;
  }
}
