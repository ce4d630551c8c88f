/**
 * ZooKeeper 3.8's ServerMetrics registry, as its DefaultMetricsProvider keeps it: the
 * counters, summaries and summary sets ServerMetrics creates (same names, same kinds),
 * plus the gauges the server of each role registers. `mntr` and the AdminServer's
 * `monitor` command print `dump()`; the Prometheus exporter can read the same objects.
 *
 * Order matters to people who diff `mntr` output, so `dump()` lists everything in the
 * order a real ZooKeeper does: gauges, gauge sets, counters, counter sets, basic
 * summaries, summaries, basic summary sets, summary sets, each family in the iteration
 * order of the java.util.concurrent.ConcurrentHashMap that holds it there. That order
 * is a pure function of the insertion (and removal) history, reproduced by
 * JavaConcurrentHashMap below; the tests check it against a real 3.8.0's output.
 *
 * Values are Java longs (JavaScript numbers here), Java doubles (JavaDouble, so that
 * they print as Java prints them: "0.0", "3.8571") or text.
 *
 * Some metrics measure machinery zookeeper-ts does not have (the commit processor's
 * thread pool, Netty buffers, JVM pauses); they stay at zero, so that dashboards find
 * every key they expect.
 */

/** A Java double: printed as Double.toString prints it ("0.0", "5.75", "1.0E7"). */
export class JavaDouble {
  constructor(readonly value: number) {}

  toString(): string {
    return javaDoubleString(this.value);
  }
}

/** A metric value as mntr and the monitor command receive it. */
export type MetricValue = number | JavaDouble | string;

/** java.lang.Double.toString for the values metrics produce. */
export function javaDoubleString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa = '0', exponent = '0'] = v.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** new BigDecimal(v).setScale(4, RoundingMode.HALF_UP).doubleValue(), for the ratios averages are. */
export function round4(v: number): number {
  const scaled = v * 10000;
  const r = Math.round(Math.abs(scaled) + 1e-9) / 10000;
  return v < 0 ? -r : r;
}

/** Math.round(double) in Java: floor(x + 0.5). */
function javaRound(v: number): number {
  return Math.floor(v + 0.5);
}

// ---------------------------------------------------------------------------------------
// ConcurrentHashMap iteration order

/** java.lang.String.hashCode over UTF-16 code units, 32-bit. */
function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** ConcurrentHashMap.spread: the high half folded in, sign bit cleared. */
function spread(h: number): number {
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

interface Entry<V> {
  readonly hash: number;
  readonly key: string;
  value: V;
}

/**
 * A map with java.util.concurrent.ConcurrentHashMap's iteration order (Java 8+), for
 * the few dozen entries a metrics family holds: the table starts at 16 bins and
 * doubles when the count reaches 3/4 of it; a new key goes to the tail of its bin; a
 * resize splits each bin into its low and high halves, keeping the bin's longest tail
 * run whose nodes all go the same way and putting the nodes before it in front of it,
 * reversed (ConcurrentHashMap.transfer); removals keep the order of the rest.
 *
 * Not modelled: bins of eight or more nodes turning into trees (they keep insertion
 * order here), which takes colliding hash codes no metric name has.
 */
export class JavaConcurrentHashMap<V> {
  #bins: Entry<V>[][] = [];
  #count = 0;
  #sizeCtl = 0;

  get size(): number {
    return this.#count;
  }

  get(key: string): V | undefined {
    return this.#find(key)?.value;
  }

  has(key: string): boolean {
    return this.#find(key) !== undefined;
  }

  /** putIfAbsent / computeIfAbsent: the existing value, or `make()`'s, now stored. */
  getOrAdd(key: string, make: () => V): V {
    const found = this.#find(key);
    if (found !== undefined) return found.value;
    const value = make();
    this.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const found = this.#find(key);
    if (found !== undefined) {
      found.value = value;
      return;
    }
    if (this.#bins.length === 0) {
      this.#bins = Array.from({ length: 16 }, () => []);
      this.#sizeCtl = 12;
    }
    const hash = spread(stringHash(key));
    this.#bins[hash & (this.#bins.length - 1)]!.push({ hash, key, value });
    this.#count++;
    while (this.#count >= this.#sizeCtl) this.#resize();
  }

  delete(key: string): boolean {
    if (this.#bins.length === 0) return false;
    const bin = this.#bins[spread(stringHash(key)) & (this.#bins.length - 1)]!;
    const i = bin.findIndex((e) => e.key === key);
    if (i < 0) return false;
    bin.splice(i, 1);
    this.#count--;
    return true;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const bin of this.#bins) for (const e of bin) yield [e.key, e.value];
  }

  *values(): IterableIterator<V> {
    for (const bin of this.#bins) for (const e of bin) yield e.value;
  }

  #find(key: string): Entry<V> | undefined {
    if (this.#bins.length === 0) return undefined;
    return this.#bins[spread(stringHash(key)) & (this.#bins.length - 1)]!.find((e) => e.key === key);
  }

  #resize(): void {
    const n = this.#bins.length;
    const next: Entry<V>[][] = Array.from({ length: 2 * n }, () => []);
    for (let i = 0; i < n; i++) {
      const bin = this.#bins[i]!;
      if (bin.length === 0) continue;
      let runBit = bin[0]!.hash & n;
      let lastRun = 0;
      for (let j = 1; j < bin.length; j++) {
        const b = bin[j]!.hash & n;
        if (b !== runBit) {
          runBit = b;
          lastRun = j;
        }
      }
      const low: Entry<V>[] = runBit === 0 ? bin.slice(lastRun) : [];
      const high: Entry<V>[] = runBit === 0 ? [] : bin.slice(lastRun);
      for (let j = 0; j < lastRun; j++) {
        const e = bin[j]!;
        if ((e.hash & n) === 0) low.unshift(e);
        else high.unshift(e);
      }
      next[i] = low;
      next[i + n] = high;
    }
    this.#bins = next;
    this.#sizeCtl = 2 * n - (n >>> 1);
  }
}

// ---------------------------------------------------------------------------------------
// Metric kinds

type Sink = (key: string, value: MetricValue) => void;

/** SimpleCounter. */
export class Counter {
  #value = 0;

  constructor(readonly name: string) {}

  get value(): number {
    return this.#value;
  }

  add(delta = 1): void {
    this.#value += delta;
  }

  reset(): void {
    this.#value = 0;
  }

  dump(sink: Sink): void {
    sink(this.name, this.#value);
  }
}

/** Values kept for percentiles, as AvgMinMaxPercentileCounter's ResettableUniformReservoir. */
const RESERVOIR_SIZE = 4096;

/**
 * AvgMinMaxCounter (a BASIC summary): avg_, min_, max_, cnt_, sum_. It also keeps a
 * uniform sample of its values (ZooKeeper's reservoir) for the quantiles a Prometheus
 * scrape reports: ZooKeeper's Prometheus provider gives a basic summary a median.
 */
export class AvgMinMaxCounter {
  #total = 0;
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;
  #sample: number[] = [];

  constructor(readonly name: string) {}

  add(value: number): void {
    const v = Math.trunc(value);
    this.#total += v;
    this.#count++;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
    if (this.#sample.length < RESERVOIR_SIZE) {
      this.#sample.push(v);
    } else {
      const r = Math.floor(Math.random() * this.#count);
      if (r < RESERVOIR_SIZE) this.#sample[r] = v;
    }
  }

  get count(): number {
    return this.#count;
  }

  get total(): number {
    return this.#total;
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  get max(): number {
    return this.#count === 0 ? 0 : this.#max;
  }

  /** Rounded half up to four decimals, as AvgMinMaxCounter.getAvg. */
  get avg(): number {
    return this.#count === 0 ? 0 : round4(this.#total / this.#count);
  }

  /** Dropwizard UniformSnapshot.getValue over the sample, rounded as Math.round. */
  percentile(q: number): number {
    return this.percentiles([q])[0]!;
  }

  /** Several percentiles over one sorted copy of the sample. */
  percentiles(qs: readonly number[]): number[] {
    const sorted = [...this.#sample].sort((a, b) => a - b);
    const n = sorted.length;
    return qs.map((q) => {
      if (n === 0) return 0;
      const pos = q * (n + 1);
      const index = Math.floor(pos);
      if (index < 1) return javaRound(sorted[0]!);
      if (index >= n) return javaRound(sorted[n - 1]!);
      const lower = sorted[index - 1]!;
      const upper = sorted[index]!;
      return javaRound(lower + (pos - index) * (upper - lower));
    });
  }

  /** resetMax: the max drops to the min. */
  resetMax(): void {
    this.#max = this.min;
  }

  reset(): void {
    this.#total = 0;
    this.#count = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = Number.NEGATIVE_INFINITY;
    this.#sample = [];
  }

  dump(sink: Sink): void {
    sink(`avg_${this.name}`, new JavaDouble(this.avg));
    sink(`min_${this.name}`, this.min);
    sink(`max_${this.name}`, this.max);
    sink(`cnt_${this.name}`, this.#count);
    sink(`sum_${this.name}`, this.#total);
  }
}

/** AvgMinMaxPercentileCounter (an ADVANCED summary): the basic five plus p50, p95, p99, p999. */
export class AvgMinMaxPercentileCounter {
  readonly #counter: AvgMinMaxCounter;

  constructor(readonly name: string) {
    this.#counter = new AvgMinMaxCounter(name);
  }

  add(value: number): void {
    this.#counter.add(value);
  }

  get count(): number {
    return this.#counter.count;
  }

  get total(): number {
    return this.#counter.total;
  }

  get avg(): number {
    return this.#counter.avg;
  }

  /** Dropwizard UniformSnapshot.getValue, rounded as Math.round. */
  percentile(q: number): number {
    return this.#counter.percentile(q);
  }

  percentiles(qs: readonly number[]): number[] {
    return this.#counter.percentiles(qs);
  }

  resetMax(): void {
    this.#counter.resetMax();
  }

  reset(): void {
    this.#counter.reset();
  }

  dump(sink: Sink): void {
    this.#counter.dump(sink);
    const [p50, p95, p99, p999] = this.percentiles([0.5, 0.95, 0.99, 0.999]);
    sink(`p50_${this.name}`, p50!);
    sink(`p95_${this.name}`, p95!);
    sink(`p99_${this.name}`, p99!);
    sink(`p999_${this.name}`, p999!);
  }
}

type Summary = AvgMinMaxCounter | AvgMinMaxPercentileCounter;

/** AvgMinMaxCounterSet / AvgMinMaxPercentileCounterSet: one summary per key, named `<key>_<name>`. */
export class SummarySet {
  readonly #members = new JavaConcurrentHashMap<Summary>();

  constructor(
    readonly name: string,
    readonly percentiles: boolean,
  ) {}

  add(key: string, value: number): void {
    const name = `${key}_${this.name}`;
    this.#members.getOrAdd(key, () => (this.percentiles ? new AvgMinMaxPercentileCounter(name) : new AvgMinMaxCounter(name))).add(value);
  }

  reset(): void {
    for (const s of this.#members.values()) s.reset();
  }

  /** Each key's summary, for the Prometheus exporter (label key="<key>"). */
  members(): IterableIterator<[string, Summary]> {
    return this.#members.entries();
  }

  dump(sink: Sink): void {
    for (const s of this.#members.values()) s.dump(sink);
  }
}

/** SimpleCounterSet: one counter per key, named `<key>_<name>`. */
export class CounterSet {
  readonly #members = new JavaConcurrentHashMap<Counter>();

  constructor(readonly name: string) {}

  add(key: string, delta = 1): void {
    this.#members.getOrAdd(key, () => new Counter(`${key}_${this.name}`)).add(delta);
  }

  reset(): void {
    for (const c of this.#members.values()) c.reset();
  }

  /** Each key's counter, for the Prometheus exporter (label key="<key>"). */
  members(): IterableIterator<[string, Counter]> {
    return this.#members.entries();
  }

  dump(sink: Sink): void {
    for (const c of this.#members.values()) c.dump(sink);
  }
}

/** BufferStats: last/min/max of a size, -1 until the first one. */
export class BufferStats {
  last = -1;
  min = -1;
  max = -1;

  set(size: number): void {
    this.last = size;
    if (this.min === -1 || size < this.min) this.min = size;
    if (size > this.max) this.max = size;
  }

  reset(): void {
    this.last = -1;
    this.min = -1;
    this.max = -1;
  }

  /** "last/min/max", as BufferStats.toString. */
  toString(): string {
    return `${this.last}/${this.min}/${this.max}`;
  }
}

// ---------------------------------------------------------------------------------------
// The registry

/** A gauge: its current value, or null to leave it out of the dump (as a Java gauge returning null). */
export type Gauge = () => MetricValue | null;

/** A gauge set: a value per key, dumped as `<key>_<name>`. */
export type GaugeSet = () => ReadonlyMap<string, number>;

/**
 * The kinds and names ServerMetrics' constructor creates, in its order: c = counter,
 * b = basic summary, a = advanced summary (percentiles), bs / as = summary sets,
 * cs = counter set.
 */
const SERVER_METRICS: ReadonlyArray<readonly ['c' | 'b' | 'a' | 'bs' | 'as' | 'cs', string]> = [
  ['b', 'fsynctime'], ['b', 'snapshottime'], ['b', 'dbinittime'], ['a', 'readlatency'], ['a', 'updatelatency'],
  ['a', 'propagation_latency'], ['b', 'follower_sync_time'], ['b', 'observer_sync_time'], ['b', 'election_time'],
  ['c', 'looking_count'], ['c', 'diff_count'], ['c', 'snap_count'], ['c', 'commit_count'], ['c', 'connection_request_count'],
  ['b', 'connection_token_deficit'], ['c', 'connection_rejected'], ['b', 'inflight_snap_count'], ['b', 'inflight_diff_count'],
  ['bs', 'write_per_namespace'], ['bs', 'read_per_namespace'], ['c', 'bytes_received_count'], ['c', 'unrecoverable_error_count'],
  ['b', 'node_created_watch_count'], ['b', 'node_deleted_watch_count'], ['b', 'node_changed_watch_count'], ['b', 'node_children_watch_count'],
  ['c', 'add_dead_watcher_stall_time'], ['c', 'dead_watchers_queued'], ['c', 'dead_watchers_cleared'], ['a', 'dead_watchers_cleaner_latency'],
  ['c', 'response_packet_cache_hits'], ['c', 'response_packet_cache_misses'], ['c', 'response_packet_get_children_cache_hits'],
  ['c', 'response_packet_get_children_cache_misses'], ['c', 'ensemble_auth_success'], ['c', 'ensemble_auth_fail'], ['c', 'ensemble_auth_skip'],
  ['a', 'prep_processor_queue_time_ms'], ['b', 'prep_processor_queue_size'], ['c', 'prep_processor_request_queued'],
  ['c', 'outstanding_changes_queued'], ['c', 'outstanding_changes_removed'], ['b', 'prep_process_time'], ['b', 'proposal_process_time'],
  ['a', 'close_session_prep_time'], ['c', 'revalidate_count'], ['c', 'connection_drop_count'], ['c', 'connection_revalidate_count'],
  ['c', 'sessionless_connections_expired'], ['c', 'stale_sessions_expired'], ['b', 'unavailable_time'], ['b', 'leader_unavailable_time'],
  ['b', 'requests_in_session_queue'], ['b', 'pending_session_queue_size'], ['b', 'reads_after_write_in_session_queue'],
  ['b', 'reads_issued_from_session_queue'], ['b', 'session_queues_drained'], ['b', 'time_waiting_empty_pool_in_commit_processor_read_ms'],
  ['b', 'write_batch_time_in_commit_processor'], ['b', 'concurrent_request_processing_in_commit_processor'], ['b', 'read_commit_proc_req_queued'],
  ['b', 'write_commit_proc_req_queued'], ['b', 'commit_commit_proc_req_queued'], ['c', 'request_commit_queued'], ['b', 'read_commit_proc_issued'],
  ['b', 'write_commit_proc_issued'], ['c', 'throttled_ops'], ['a', 'read_commitproc_time_ms'], ['a', 'write_commitproc_time_ms'],
  ['a', 'local_write_committed_time_ms'], ['a', 'server_write_committed_time_ms'], ['b', 'commit_process_time'], ['a', 'om_proposal_process_time_ms'],
  ['a', 'om_commit_process_time_ms'], ['a', 'read_final_proc_time_ms'], ['a', 'write_final_proc_time_ms'], ['a', 'proposal_latency'],
  ['a', 'proposal_ack_creation_latency'], ['a', 'commit_propagation_latency'], ['c', 'learner_proposal_received_count'],
  ['c', 'learner_commit_received_count'], ['bs', 'learner_handler_qp_size'], ['as', 'learner_handler_qp_time_ms'], ['b', 'startup_txns_loaded'],
  ['b', 'startup_txns_load_time'], ['b', 'startup_snap_load_time'], ['a', 'sync_processor_queue_and_flush_time_ms'], ['b', 'sync_processor_queue_size'],
  ['c', 'sync_processor_request_queued'], ['a', 'sync_processor_queue_time_ms'], ['a', 'sync_processor_queue_flush_time_ms'], ['b', 'sync_process_time'],
  ['b', 'sync_processor_batch_size'], ['a', 'quorum_ack_latency'], ['as', 'ack_latency'], ['c', 'proposal_count'],
  ['c', 'quit_leading_due_to_disloyal_voter'], ['c', 'stale_requests'], ['c', 'stale_requests_dropped'], ['c', 'stale_replies'],
  ['a', 'request_throttle_queue_time_ms'], ['c', 'request_throttle_wait_count'], ['c', 'large_requests_rejected'], ['b', 'netty_queued_buffer_capacity'],
  ['c', 'digest_mismatches_count'], ['b', 'learner_request_processor_queue_size'], ['c', 'unsuccessful_handshake'], ['c', 'insecure_admin_count'],
  ['c', 'tls_handshake_exceeded'], ['c', 'cnxn_closed_without_zk_server_running'], ['c', 'skip_learner_request_to_next_processor_count'],
  ['b', 'socket_closing_time'], ['c', 'requests_not_forwarded_to_commit_processor'], ['c', 'response_bytes'], ['c', 'watch_bytes'],
  ['a', 'jvm_pause_time_ms'], ['cs', 'quota_exceeded_error_per_namespace'],
];

/** PrometheusSummary's quantiles: 0.5, 0.9, 0.99 for an ADVANCED summary, 0.5 for a BASIC one. */
const ADVANCED_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];
const BASIC_QUANTILES: readonly number[] = [0.5];

/** One family of ServerMetrics as collect() gives it: a value per key (key null: unlabelled). */
export type CollectedFamily =
  | { kind: 'gauge' | 'counter'; name: string; labelled: boolean; values: Array<{ key: string | null; value: number }> }
  | {
      kind: 'summary';
      name: string;
      labelled: boolean;
      quantiles: readonly number[];
      values: Array<{ key: string | null; count: number; sum: number; quantiles: number[] }>;
    };

export class ServerMetrics {
  readonly #gauges = new JavaConcurrentHashMap<Gauge>();
  readonly #gaugeSets = new JavaConcurrentHashMap<GaugeSet>();
  readonly #counters = new JavaConcurrentHashMap<Counter>();
  readonly #counterSets = new JavaConcurrentHashMap<CounterSet>();
  readonly #basicSummaries = new JavaConcurrentHashMap<AvgMinMaxCounter>();
  readonly #summaries = new JavaConcurrentHashMap<AvgMinMaxPercentileCounter>();
  readonly #basicSummarySets = new JavaConcurrentHashMap<SummarySet>();
  readonly #summarySets = new JavaConcurrentHashMap<SummarySet>();
  /** The gauge names registered now, in registration order. */
  #gaugeNames: readonly string[] = [];

  constructor() {
    for (const [kind, name] of SERVER_METRICS) {
      switch (kind) {
        case 'c':
          this.#counters.set(name, new Counter(name));
          break;
        case 'b':
          this.#basicSummaries.set(name, new AvgMinMaxCounter(name));
          break;
        case 'a':
          this.#summaries.set(name, new AvgMinMaxPercentileCounter(name));
          break;
        case 'bs':
          this.#basicSummarySets.set(name, new SummarySet(name, false));
          break;
        case 'as':
          this.#summarySets.set(name, new SummarySet(name, true));
          break;
        case 'cs':
          this.#counterSets.set(name, new CounterSet(name));
          break;
      }
    }
  }

  counter(name: string): Counter {
    const c = this.#counters.get(name);
    if (c === undefined) throw new Error(`no counter ${name} in ZooKeeper's ServerMetrics`);
    return c;
  }

  /** A summary, basic or with percentiles. */
  summary(name: string): AvgMinMaxCounter | AvgMinMaxPercentileCounter {
    const s = this.#basicSummaries.get(name) ?? this.#summaries.get(name);
    if (s === undefined) throw new Error(`no summary ${name} in ZooKeeper's ServerMetrics`);
    return s;
  }

  summarySet(name: string): SummarySet {
    const s = this.#basicSummarySets.get(name) ?? this.#summarySets.get(name);
    if (s === undefined) throw new Error(`no summary set ${name} in ZooKeeper's ServerMetrics`);
    return s;
  }

  /**
   * The gauges of the server's current role, in ZooKeeper's registration order
   * (ZooKeeperServer.registerMetrics, then the role's own). A different list than the
   * current one replays what ZooKeeper does when a server of another role starts:
   * every gauge unregistered, then the new ones registered.
   */
  useGauges(gauges: ReadonlyArray<readonly [string, Gauge]>): void {
    const names = gauges.map(([n]) => n);
    if (names.length !== this.#gaugeNames.length || names.some((n, i) => n !== this.#gaugeNames[i])) {
      for (const n of this.#gaugeNames) this.#gauges.delete(n);
      this.#gaugeNames = names;
    }
    for (const [name, gauge] of gauges) this.#gauges.set(name, gauge);
  }

  /** registerGaugeSet (the quota gauges): dumped as `<key>_<name>`. */
  useGaugeSet(name: string, set: GaugeSet): void {
    this.#gaugeSets.set(name, set);
  }

  /** DefaultMetricsProvider.dump: every value, in ZooKeeper's order. */
  dump(sink: Sink): void {
    for (const [name, gauge] of this.#gauges.entries()) {
      const v = gauge();
      if (v !== null) sink(name, v);
    }
    for (const [name, set] of this.#gaugeSets.entries()) {
      for (const [key, v] of set()) sink(`${key}_${name}`, v);
    }
    for (const c of this.#counters.values()) c.dump(sink);
    for (const c of this.#counterSets.values()) c.dump(sink);
    for (const s of this.#basicSummaries.values()) s.dump(sink);
    for (const s of this.#summaries.values()) s.dump(sink);
    for (const s of this.#basicSummarySets.values()) s.dump(sink);
    for (const s of this.#summarySets.values()) s.dump(sink);
  }

  /**
   * Every family with its kind, for the Prometheus exporter (src/metrics/prometheus.ts),
   * read from the same objects `dump()` reads: one source of truth for mntr, the
   * monitor command and /metrics. Kinds and labels follow ZooKeeper's
   * PrometheusMetricsProvider: a gauge without a value (Java's null) reads 0; the sets
   * are labelled key="<key>"; summaries report quantiles 0.5, 0.9 and 0.99 (advanced) or
   * 0.5 (basic), with _count and _sum.
   */
  collect(): CollectedFamily[] {
    const out: CollectedFamily[] = [];
    const num = (v: MetricValue | null): number => (v === null ? 0 : v instanceof JavaDouble ? v.value : typeof v === 'number' ? v : Number(v));
    for (const [name, gauge] of this.#gauges.entries()) {
      out.push({ kind: 'gauge', name, labelled: false, values: [{ key: null, value: num(gauge()) }] });
    }
    for (const [name, set] of this.#gaugeSets.entries()) {
      out.push({ kind: 'gauge', name, labelled: true, values: [...set()].map(([key, value]) => ({ key, value })) });
    }
    for (const c of this.#counters.values()) out.push({ kind: 'counter', name: c.name, labelled: false, values: [{ key: null, value: c.value }] });
    for (const [name, set] of this.#counterSets.entries()) {
      out.push({ kind: 'counter', name, labelled: true, values: [...set.members()].map(([key, c]) => ({ key, value: c.value })) });
    }
    const summary = (name: string, labelled: boolean, quantiles: readonly number[], members: Iterable<[string | null, Summary]>): CollectedFamily => ({
      kind: 'summary',
      name,
      labelled,
      quantiles,
      values: [...members].map(([key, s]) => ({ key, count: s.count, sum: s.total, quantiles: s.percentiles(quantiles) })),
    });
    for (const s of this.#basicSummaries.values()) out.push(summary(s.name, false, BASIC_QUANTILES, [[null, s]]));
    for (const s of this.#summaries.values()) out.push(summary(s.name, false, ADVANCED_QUANTILES, [[null, s]]));
    for (const set of this.#basicSummarySets.values()) out.push(summary(set.name, true, BASIC_QUANTILES, set.members()));
    for (const set of this.#summarySets.values()) out.push(summary(set.name, true, ADVANCED_QUANTILES, set.members()));
    return out;
  }

  /** resetAllValues (srst): counters and summaries back to zero; gauges read live values. */
  resetAll(): void {
    for (const c of this.#counters.values()) c.reset();
    for (const c of this.#counterSets.values()) c.reset();
    for (const s of this.#basicSummaries.values()) s.reset();
    for (const s of this.#summaries.values()) s.reset();
    for (const s of this.#basicSummarySets.values()) s.reset();
    for (const s of this.#summarySets.values()) s.reset();
  }
}
