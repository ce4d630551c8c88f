// The console's page: three views over the console API of the node that serves it
// (src/admin/console.ts). No framework: a few DOM helpers, uPlot for the charts.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

// ---- types of the API's answers ------------------------------------------------------------

interface MemberView {
  id: number;
  host: string;
  clientPort: number;
  type: string;
  state: string;
  source: string;
  zxid: string | null;
  epoch: number | null;
  connections: number | null;
  outstandingRequests: number | null;
  packetsReceived: number | null;
  packetsSent: number | null;
  avgLatencyMs: number | null;
  minLatencyMs: number | null;
  maxLatencyMs: number | null;
  avgFsyncMs: number | null;
  maxFsyncMs: number | null;
  znodeCount: number | null;
  electionCount: number | null;
  avgElectionMs: number | null;
  maxElectionMs: number | null;
  error: string | null;
}

interface EnsembleView {
  at: number;
  myId: number;
  standalone: boolean;
  leaderId: number | null;
  leaderSince: number | null;
  previousLeaderId: number | null;
  lastElectionAt: number | null;
  members: MemberView[];
}

interface NodeInfo {
  path: string;
  data: string | null;
  stat: Record<string, string | number>;
  acl: Array<{ scheme: string; id: string; perms: number; permString: string }> | null;
  ephemeralOwner: string | null;
  dataWatches: number;
  watchingSessions: string[];
}

interface ChildrenPage {
  path: string;
  total: number;
  offset: number;
  limit: number;
  children: string[];
}

// ---- small helpers --------------------------------------------------------------------------

type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...kids: Array<Node | string | null | undefined | false>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (k in el && typeof v !== 'string') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T;

const meta = JSON.parse(document.querySelector<HTMLMetaElement>('meta[name="zk-console"]')?.content ?? '{}') as { token?: string; readOnly?: boolean };
const readOnly = meta.readOnly === true;

function fmt(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined) return '–';
  return digits === 0 ? String(Math.round(v)) : v.toFixed(digits);
}

function time(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toLocaleTimeString();
}

function ago(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 3600)} h ago`;
}

function status(text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  const el = $('#status');
  el.textContent = text;
  el.className = kind;
}

// ---- credentials and requests ---------------------------------------------------------------

const AUTH_KEY = 'zk-console-auth';
let auth = sessionStorage.getItem(AUTH_KEY) ?? '';

function showWho(): void {
  $('#who').textContent = auth === '' ? 'anonymous' : `digest ${auth.slice(0, auth.indexOf(':'))}`;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth !== '') headers['x-zk-auth'] = `digest ${auth}`;
  if (method !== 'GET') {
    headers['x-zk-console-token'] = meta.token ?? '';
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`api/${path}`, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const answer = (await res.json().catch(() => ({ error: 'HTTP', message: `HTTP ${res.status}` }))) as { error?: string; message?: string };
  if (!res.ok) throw new ApiError(res.status, answer.error ?? 'HTTP', answer.message ?? `HTTP ${res.status}`);
  return answer as T;
}

// ---- routing --------------------------------------------------------------------------------

type Page = 'overview' | 'znodes' | 'sessions';

function route(): void {
  const m = /^#\/(overview|znodes|sessions)(?:\?(.*))?$/.exec(location.hash);
  const page: Page = (m?.[1] as Page | undefined) ?? 'overview';
  for (const p of ['overview', 'znodes', 'sessions'] as const) {
    $(`#page-${p}`).hidden = p !== page;
    document.querySelector(`nav a[data-page="${p}"]`)?.classList.toggle('active', p === page);
  }
  document.title = `ZooKeeper console · ${page === 'overview' ? 'ensemble' : page}`;
  if (page === 'znodes') {
    const q = new URLSearchParams(m?.[2] ?? '');
    void znodes.open(q.get('path') ?? znodes.selected ?? '/');
  }
  if (page === 'sessions') void sessions.load();
  if (page === 'overview') overview.resize();
}

// ---- the ensemble ---------------------------------------------------------------------------

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d'];
const WINDOW_S = 180;

class Overview {
  readonly root = $('#page-overview');
  readonly banner = h('div', { class: 'banner', id: 'leader-banner' }, 'Connecting…');
  readonly table = h('table', { class: 'members', id: 'members' });
  readonly charts = h('div', { class: 'charts' });
  #plots: Array<{ plot: uPlot; pick: (m: MemberView, prev: MemberView | undefined, dt: number) => number | null; data: Array<Array<number | null>> }> = [];
  #ids: number[] = [];
  #prev = new Map<number, MemberView>();
  #prevAt = 0;
  #source: EventSource | null = null;

  constructor() {
    this.root.append(this.banner, this.table, h('h2', {}, 'Last three minutes'), this.charts);
  }

  start(): void {
    const es = new EventSource('api/events');
    this.#source = es;
    es.addEventListener('overview', (e) => this.update(JSON.parse((e as MessageEvent<string>).data) as EnsembleView));
    es.addEventListener('error', () => {
      this.banner.className = 'banner warn';
      this.banner.textContent = 'The console lost its stream from this node; retrying…';
    });
  }

  update(v: EnsembleView): void {
    const leader = v.members.find((m) => m.id === v.leaderId);
    if (v.standalone) {
      this.banner.className = 'banner ok';
      this.banner.textContent = `Standalone server${leader ? ` ${leader.host}:${leader.clientPort}` : ''}`;
    } else if (leader !== undefined) {
      this.banner.className = 'banner ok';
      this.banner.replaceChildren(
        'Leader: ',
        h('strong', { id: 'leader-id', 'data-leader': leader.id }, `node ${leader.id}`),
        ` (${leader.host}:${leader.clientPort})`,
        v.lastElectionAt !== null ? ` · elected ${ago(v.lastElectionAt)} at ${time(v.lastElectionAt)}${v.previousLeaderId !== null ? `, after node ${v.previousLeaderId}` : ''}` : '',
        ` · ${v.members.filter((m) => m.state !== 'down').length} of ${v.members.length} members up · viewed from node ${v.myId}`,
      );
    } else {
      this.banner.className = 'banner warn';
      this.banner.replaceChildren(h('strong', { id: 'leader-id', 'data-leader': '' }, 'No leader'), ` — an election is running or there is no quorum · viewed from node ${v.myId}`);
    }
    this.#table(v);
    this.#chart(v);
  }

  #table(v: EnsembleView): void {
    const head = h(
      'tr',
      {},
      ...['Node', 'Address', 'Role', 'Zxid', 'Epoch', 'Connections', 'Outstanding', 'Latency min/avg/max ms', 'Fsync avg/max ms', 'Elections', 'Election time avg/max ms', 'Znodes'].map((t) => h('th', {}, t)),
    );
    const rows = v.members.map((m) =>
      h(
        'tr',
        { 'data-member-id': m.id, 'data-state': m.state, class: `state-${m.state}`, title: m.error ?? `numbers from ${m.source === 'self' ? 'this node' : m.source === 'admin' ? 'its AdminServer' : m.source === 'srvr' ? 'its srvr' : '—'}` },
        h('td', {}, h('span', { class: 'dot', style: `background:${COLORS[(m.id - 1 + COLORS.length) % COLORS.length]}` }), ` ${m.id}${m.id === v.myId ? ' (this)' : ''}`),
        h('td', { class: 'mono' }, `${m.host}:${m.clientPort}`),
        h('td', {}, h('span', { class: `role role-${m.state}` }, m.state), m.type === 'observer' && m.state !== 'observer' ? ' (observer)' : ''),
        h('td', { class: 'mono' }, m.zxid ?? '–'),
        h('td', { class: 'num' }, fmt(m.epoch)),
        h('td', { class: 'num' }, fmt(m.connections)),
        h('td', { class: 'num' }, fmt(m.outstandingRequests)),
        h('td', { class: 'num' }, m.avgLatencyMs === null ? '–' : `${fmt(m.minLatencyMs)}/${fmt(m.avgLatencyMs, 1)}/${fmt(m.maxLatencyMs)}`),
        h('td', { class: 'num' }, m.avgFsyncMs === null ? '–' : `${fmt(m.avgFsyncMs, 1)}/${fmt(m.maxFsyncMs)}`),
        h('td', { class: 'num' }, fmt(m.electionCount)),
        h('td', { class: 'num' }, m.avgElectionMs === null ? '–' : `${fmt(m.avgElectionMs, 0)}/${fmt(m.maxElectionMs)}`),
        h('td', { class: 'num' }, fmt(m.znodeCount)),
      ),
    );
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
  }

  #chart(v: EnsembleView): void {
    const t = v.at / 1000;
    const dt = this.#prevAt === 0 ? 0 : t - this.#prevAt;
    const ids = v.members.map((m) => m.id);
    if (this.#plots.length === 0 || ids.join() !== this.#ids.join()) this.#makeCharts(ids);
    for (const c of this.#plots) {
      c.data[0]!.push(t);
      v.members.forEach((m, i) => c.data[i + 1]!.push(m.state === 'down' ? null : c.pick(m, this.#prev.get(m.id), dt)));
      while (c.data[0]!.length > 0 && c.data[0]![0]! < t - WINDOW_S) for (const s of c.data) s.shift();
      c.plot.setData(c.data as uPlot.AlignedData);
    }
    this.#prev = new Map(v.members.map((m) => [m.id, m]));
    this.#prevAt = t;
  }

  #makeCharts(ids: number[]): void {
    this.#ids = ids;
    this.charts.replaceChildren();
    const specs: Array<[string, string, (m: MemberView, prev: MemberView | undefined, dt: number) => number | null]> = [
      ['Requests /s', 'req/s', (m, prev, dt) => (prev?.packetsReceived == null || m.packetsReceived === null || dt <= 0 ? null : Math.max(0, (m.packetsReceived - prev.packetsReceived) / dt))],
      ['Average latency', 'ms', (m) => m.avgLatencyMs],
      ['Average fsync time', 'ms', (m) => m.avgFsyncMs],
    ];
    this.#plots = specs.map(([title, unit, pick]) => {
      const box = h('div', { class: 'chart' }, h('h3', {}, title));
      this.charts.append(box);
      const opts: uPlot.Options = {
        width: this.#chartWidth(),
        height: 160,
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max ?? 1, min ?? 0) * 1.1] } },
        legend: { live: false },
        axes: [{}, { label: unit, size: 50 }],
        series: [{}, ...ids.map((id, i) => ({ label: `node ${id}`, stroke: COLORS[(id - 1 + COLORS.length) % COLORS.length] ?? COLORS[i % COLORS.length]!, width: 2, spanGaps: false }))],
      };
      const data: Array<Array<number | null>> = [[], ...ids.map(() => [])];
      return { plot: new uPlot(opts, data as uPlot.AlignedData, box), pick, data };
    });
  }

  #chartWidth(): number {
    // Three in a row on a wide window; each box adds 18 px (padding, border), gaps 10 px.
    const w = this.root.clientWidth || window.innerWidth - 40;
    return Math.max(280, Math.floor(w >= 1000 ? (w - 2 * 10) / 3 - 18 : w - 18));
  }

  resize(): void {
    for (const c of this.#plots) c.plot.setSize({ width: this.#chartWidth(), height: 160 });
  }

  stop(): void {
    this.#source?.close();
  }
}

// ---- znodes ---------------------------------------------------------------------------------

const PAGE = 200;

function decode(b64: string | null): Uint8Array {
  if (b64 === null) return new Uint8Array();
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function encode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join('\n');
}

function parseHex(text: string): Uint8Array {
  // Either a dump as shown (offset, hex, text columns) or bare hex digits.
  const digits = text
    .split('\n')
    .map((l) => (/^[0-9a-f]{8} {2}/i.test(l) ? l.slice(10, 57) : l))
    .join(' ')
    .replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error('Hex data must be pairs of hex digits');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function join(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

class Znodes {
  readonly root = $('#page-znodes');
  readonly tree = h('ul', { class: 'tree', id: 'tree' });
  readonly detail = h('div', { class: 'detail', id: 'znode-detail' });
  readonly goto = h('input', { id: 'goto-path', placeholder: '/path/to/znode', class: 'mono', size: 40 });
  selected: string | null = null;
  #node: NodeInfo | null = null;
  #view: 'text' | 'json' | 'hex' = 'text';
  #started = false;

  constructor() {
    const form = h(
      'form',
      {
        class: 'goto',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const p = this.goto.value.trim() || '/';
          location.hash = `#/znodes?path=${encodeURIComponent(p)}`;
        },
      },
      this.goto,
      h('button', { type: 'submit', id: 'goto-button' }, 'Open'),
      h('button', { type: 'button', onclick: () => void this.refreshTree() }, 'Refresh tree'),
    );
    this.root.append(form, h('div', { class: 'split' }, h('div', { class: 'tree-box' }, this.tree), this.detail));
  }

  async refreshTree(): Promise<void> {
    this.tree.replaceChildren(this.#item('/', '/'));
    await this.#expand(this.tree.firstElementChild as HTMLLIElement, '/');
  }

  async open(p: string): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      await this.refreshTree();
    }
    this.goto.value = p;
    await this.select(p);
  }

  #item(p: string, label: string): HTMLLIElement {
    const li = h('li', { 'data-path': p });
    const toggle = h('button', { class: 'toggle', title: 'children', onclick: () => void this.#toggle(li, p) }, '▸');
    const name = h('a', { href: `#/znodes?path=${encodeURIComponent(p)}`, class: 'name' }, label);
    li.append(toggle, name);
    return li;
  }

  async #toggle(li: HTMLLIElement, p: string): Promise<void> {
    const open = li.querySelector(':scope > ul');
    if (open !== null) {
      open.remove();
      (li.firstElementChild as HTMLElement).textContent = '▸';
      return;
    }
    await this.#expand(li, p);
  }

  async #expand(li: HTMLLIElement, p: string, offset = 0, into?: HTMLUListElement): Promise<void> {
    let page: ChildrenPage;
    try {
      page = await api<ChildrenPage>('GET', `children?path=${encodeURIComponent(p)}&offset=${offset}&limit=${PAGE}`);
    } catch (e) {
      status(`Children of ${p}: ${(e as Error).message}`, 'error');
      return;
    }
    const ul = into ?? h('ul');
    if (into === undefined) {
      li.querySelector(':scope > ul')?.remove();
      li.append(ul);
      (li.firstElementChild as HTMLElement).textContent = page.total === 0 ? '·' : '▾';
    }
    for (const c of page.children) ul.append(this.#item(join(p, c), c));
    const left = page.total - (offset + page.children.length);
    if (left > 0) {
      const more = h('li', { class: 'more' });
      more.append(
        h(
          'button',
          {
            onclick: () => {
              more.remove();
              void this.#expand(li, p, offset + PAGE, ul);
            },
          },
          `${left} more…`,
        ),
      );
      ul.append(more);
    }
  }

  async select(p: string): Promise<void> {
    if (p !== this.selected) this.#view = 'text';
    this.selected = p;
    for (const el of this.tree.querySelectorAll('li.selected')) el.classList.remove('selected');
    this.tree.querySelector(`li[data-path="${CSS.escape(p)}"]`)?.classList.add('selected');
    this.detail.replaceChildren(h('p', {}, `Loading ${p}…`));
    try {
      this.#node = await api<NodeInfo>('GET', `node?path=${encodeURIComponent(p)}`);
    } catch (e) {
      this.#node = null;
      const err = e as ApiError;
      const hint =
        err.code === 'NOAUTH'
          ? ' — this node’s ACL does not let these credentials read it; enter a digest user and password above.'
          : err.code === 'NONODE'
            ? ' — no such znode.'
            : '';
      this.detail.replaceChildren(
        h('h2', { class: 'mono' }, p),
        h('p', { class: 'error', id: 'znode-error', 'data-code': err.code ?? '' }, `${err.code ?? 'Error'}: ${err.message}${hint}`),
        ...(err.code === 'NOAUTH' ? [this.#createForm(p)] : []),
      );
      return;
    }
    this.#render();
  }

  #render(): void {
    const n = this.#node;
    if (n === null) return;
    const bytes = decode(n.data);
    const editor = h('textarea', { id: 'znode-data', class: 'mono', rows: 10, spellcheck: false, readOnly });
    const setView = (v: 'text' | 'json' | 'hex', asked: boolean): void => {
      this.#view = v;
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      if (v === 'hex') editor.value = hexDump(bytes);
      else if (v === 'json') {
        try {
          editor.value = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          editor.value = text;
          if (asked) status('The data is not JSON; shown as text', 'info');
        }
      } else editor.value = text;
      for (const b of views.querySelectorAll('button')) b.classList.toggle('active', b.getAttribute('data-view') === v);
    };
    const views = h('div', { class: 'views' }, ...(['text', 'json', 'hex'] as const).map((v) => h('button', { type: 'button', 'data-view': v, onclick: () => setView(v, true) }, v.toUpperCase())));
    const st = n.stat;
    const version = Number(st['version']);
    const actions = readOnly
      ? h('p', { class: 'muted' }, 'Read-only console: changes are off (admin.console.readOnly=true).')
      : h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', id: 'znode-save', onclick: () => void this.#save(n.path, editor.value, version) }, `Save (version ${version})`),
          h('button', { type: 'button', id: 'znode-delete', class: 'danger', onclick: () => void this.#delete(n.path, version) }, `Delete (version ${version})`),
        );
    const statRows = Object.entries(st).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, k.endsWith('time') && typeof v === 'number' ? `${new Date(v).toISOString()} (${v})` : String(v))));
    const aclRows = (n.acl ?? []).map((a) => h('tr', {}, h('td', { class: 'mono' }, a.scheme), h('td', { class: 'mono' }, a.id), h('td', { class: 'mono' }, a.permString)));
    this.detail.replaceChildren(
      h('h2', { class: 'mono', id: 'znode-path' }, n.path),
      h(
        'p',
        { class: 'facts' },
        `${bytes.length} bytes · ${st['numChildren']} children · `,
        n.ephemeralOwner !== null ? h('span', { class: 'tag', id: 'ephemeral-owner' }, `ephemeral, owner session ${n.ephemeralOwner}`) : 'persistent',
        ` · ${n.dataWatches} data watch${n.dataWatches === 1 ? '' : 'es'} on this node`,
        n.watchingSessions.length > 0 ? ` (${n.watchingSessions.join(', ')})` : '',
      ),
      views,
      editor,
      actions,
      h('div', { class: 'cols' }, h('div', {}, h('h3', {}, 'Stat'), h('table', { class: 'kv', id: 'znode-stat' }, ...statRows)), h('div', {}, h('h3', {}, 'ACL'), h('table', { class: 'kv', id: 'znode-acl' }, h('tr', {}, h('th', {}, 'scheme'), h('th', {}, 'id'), h('th', {}, 'perms')), ...aclRows))),
      this.#createForm(n.path),
    );
    setView(this.#view, false);
  }

  #createForm(parent: string): HTMLElement {
    if (readOnly) return h('div');
    const name = h('input', { id: 'create-name', placeholder: 'name', class: 'mono' });
    const data = h('textarea', { id: 'create-data', placeholder: 'data (text)', rows: 2, class: 'mono' });
    const mode = h('select', { id: 'create-mode' }, ...['PERSISTENT', 'EPHEMERAL', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL_SEQUENTIAL', 'CONTAINER'].map((m) => h('option', { value: m }, m)));
    const acl = h('input', { id: 'create-acl', placeholder: 'ACL, e.g. world:anyone:cdrwa (empty: open)', class: 'mono', size: 36 });
    return h(
      'form',
      {
        class: 'create',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void this.#create(join(parent, name.value.trim()), data.value, mode.value, acl.value);
        },
      },
      h('h3', {}, `Create a child of ${parent}`),
      name,
      mode,
      acl,
      data,
      h('button', { type: 'submit', id: 'create-button' }, 'Create'),
    );
  }

  #bytesOfEditor(text: string): { data: string; encoding: 'base64' | 'text' } {
    if (this.#view === 'hex') return { data: encode(parseHex(text)), encoding: 'base64' };
    if (this.#view === 'json') JSON.parse(text);
    return { data: text, encoding: 'text' };
  }

  async #save(p: string, text: string, version: number): Promise<void> {
    try {
      const body = this.#bytesOfEditor(text);
      const r = await api<{ stat: { version: number } }>('PUT', 'node', { path: p, ...body, version });
      status(`Saved ${p}: version ${r.stat.version}`, 'ok');
      await this.select(p);
    } catch (e) {
      const err = e as ApiError;
      status(err.code === 'BADVERSION' ? `Not saved: ${p} changed since it was loaded (version ${version}); reload it and try again` : `Not saved: ${err.message}`, 'error');
    }
  }

  async #delete(p: string, version: number): Promise<void> {
    if (!window.confirm(`Delete ${p} (version ${version})?`)) return;
    try {
      await api('DELETE', `node?path=${encodeURIComponent(p)}&version=${version}`);
      status(`Deleted ${p}`, 'ok');
      const parent = parentOf(p);
      this.tree.querySelector(`li[data-path="${CSS.escape(p)}"]`)?.remove();
      location.hash = `#/znodes?path=${encodeURIComponent(parent)}`;
    } catch (e) {
      const err = e as ApiError;
      status(err.code === 'BADVERSION' ? `Not deleted: ${p} changed since it was loaded; reload it` : `Not deleted: ${err.message}`, 'error');
    }
  }

  async #create(p: string, data: string, mode: string, acl: string): Promise<void> {
    try {
      const r = await api<{ path: string }>('POST', 'node', { path: p, data, mode, acl });
      status(`Created ${r.path}`, 'ok');
      const parentLi = this.tree.querySelector<HTMLLIElement>(`li[data-path="${CSS.escape(parentOf(r.path))}"]`);
      if (parentLi !== null) await this.#expand(parentLi, parentOf(r.path));
      location.hash = `#/znodes?path=${encodeURIComponent(r.path)}`;
    } catch (e) {
      status(`Not created: ${(e as Error).message}`, 'error');
    }
  }
}

// ---- sessions -------------------------------------------------------------------------------

interface Connection {
  remote: string;
  sessionId: string | null;
  sessionTimeout: number;
  outstandingRequests: number;
  packetsReceived: number;
  packetsSent: number;
  lastOperation: string;
  established: number;
  minLatency: number;
  avgLatency: number;
  maxLatency: number;
}

class Sessions {
  readonly root = $('#page-sessions');

  async load(): Promise<void> {
    let answer: { myId: number; members: Array<{ id: number; host: string; clientPort: number; reachable: boolean; connections: Connection[] }> };
    try {
      answer = await api('GET', 'sessions');
    } catch (e) {
      this.root.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
      return;
    }
    const blocks = answer.members.map((m) =>
      h(
        'div',
        { class: 'member-conns', 'data-member-id': m.id },
        h('h2', {}, `Node ${m.id}${m.id === answer.myId ? ' (this)' : ''} · ${m.host}:${m.clientPort} · ${m.reachable ? `${m.connections.length} connection${m.connections.length === 1 ? '' : 's'}` : 'not reachable'}`),
        m.connections.length === 0
          ? h('p', { class: 'muted' }, m.reachable ? 'No client connections.' : 'Its AdminServer did not answer (down, or not on this node’s admin port).')
          : h(
              'table',
              { class: 'members' },
              h('thead', {}, h('tr', {}, ...['Client', 'Session', 'Timeout ms', 'Outstanding', 'Received', 'Sent', 'Last op', 'Established', 'Latency min/avg/max'].map((t) => h('th', {}, t)))),
              h(
                'tbody',
                {},
                ...m.connections.map((c) =>
                  h(
                    'tr',
                    {},
                    h('td', { class: 'mono' }, c.remote),
                    h('td', { class: 'mono' }, c.sessionId ?? '–'),
                    h('td', { class: 'num' }, String(c.sessionTimeout)),
                    h('td', { class: 'num' }, String(c.outstandingRequests)),
                    h('td', { class: 'num' }, String(c.packetsReceived)),
                    h('td', { class: 'num' }, String(c.packetsSent)),
                    h('td', {}, c.lastOperation),
                    h('td', {}, typeof c.established === 'number' ? time(c.established) : String(c.established)),
                    h('td', { class: 'num' }, `${c.minLatency}/${c.avgLatency}/${c.maxLatency}`),
                  ),
                ),
              ),
            ),
      ),
    );
    this.root.replaceChildren(h('div', { class: 'toolbar' }, h('button', { type: 'button', id: 'sessions-refresh', onclick: () => void this.load() }, 'Refresh')), ...blocks);
  }
}

// ---- start ----------------------------------------------------------------------------------

const overview = new Overview();
const znodes = new Znodes();
const sessions = new Sessions();

$('#auth').addEventListener('submit', (e) => {
  e.preventDefault();
  const user = $<HTMLInputElement>('#auth-user').value.trim();
  const pass = $<HTMLInputElement>('#auth-pass').value;
  if (user === '' || user.includes(':')) {
    status('Enter a digest user (no colon) and its password', 'error');
    return;
  }
  auth = `${user}:${pass}`;
  sessionStorage.setItem(AUTH_KEY, auth);
  $<HTMLInputElement>('#auth-pass').value = '';
  showWho();
  status(`Requests now go as digest user ${user}`, 'ok');
  if (znodes.selected !== null && !$('#page-znodes').hidden) void znodes.select(znodes.selected);
});
$('#auth-forget').addEventListener('click', () => {
  auth = '';
  sessionStorage.removeItem(AUTH_KEY);
  showWho();
  status('Requests now go anonymously', 'ok');
  if (znodes.selected !== null && !$('#page-znodes').hidden) void znodes.select(znodes.selected);
});
if (readOnly) $('#top .brand').append(h('span', { class: 'tag ro', id: 'read-only' }, 'read-only'));
showWho();
window.addEventListener('hashchange', route);
window.addEventListener('resize', () => overview.resize());
overview.start();
route();
