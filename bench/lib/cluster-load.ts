/**
 * Load generator of the cluster bench (bench/cluster.ts), one child process of several: it holds the tablets and
 * chairs of the meetings it is given, on either cluster (the 3-node one and the 1-node one of the same run), and
 * runs the measured steps when the bench says so over IPC, answering with raw latencies.
 *
 * The clients are THIN, as in bench/live.ts: raw WebSockets speaking Engine.IO 4 / Socket.IO 5 frames, a push
 * recognised by its prefix and only acknowledgements parsed, so thousands of them cost the generator little.
 * They connect as the web client does: through HAProxy with `meeting=<id>` in the handshake URL, join the meeting,
 * and on a `not_owner` answer reconnect with `node=<owner>` (shared/protocol/realtime.ts). Latencies are taken in
 * this process alone (a chair and its meeting's tablets are in the same worker): no clocks are compared.
 *
 * IPC (request → answer, one at a time):
 *   { op: 'connect', meetings: LoadMeeting[] }         → { sockets, redirected, reconnects, connectRetries, nodes: { [key]: { [meetingId]: node } } }
 *   { op: 'fanout', key, spreadMs }                    → { lat, missed, failed }
 *   { op: 'vote-open', key }                           → { failed }
 *   { op: 'vote-cast', key, spreadMs }                 → { lat, failed }
 *   { op: 'vote-close', key }                          → { expected, counted, failed }
 *   { op: 'health', key }                              → { total, joined, reconnects, connectRetries }
 *   { op: 'cpu' }                                      → { userMs, systemMs }  (this process since it started)
 *   { op: 'close', key? }                              → { closed }  (that cluster's clients, or all)
 * A message `{ error }` instead of an answer when a step threw.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';

export interface LoadMeeting {
  /** Which cluster: 'multi' (3 nodes) or 'single' (1 node). */
  key: string;
  /** HAProxy in front of that cluster. */
  url: string;
  meetingId: number;
  chairCookie: string;
  tabletCookies: string[];
  itemIds: [number, number];
}

type Ack = { text: string; at: number };

const ENGINE_OPEN = 0x30; // '0'
const ENGINE_PING = 0x32; // '2'
const ENGINE_MESSAGE = 0x34; // '4'
const AGENDA_PUSH = '42["agenda:changed"';

/** One thin Socket.IO client of one meeting; keeps itself connected and joined until `close()`. */
class Thin {
  ws: WebSocket | null = null;
  /** The node holding this socket (its Engine.IO session id starts with it in cluster mode). */
  node: string | null = null;
  /** The owner a `not_owner` answer named: sent as `node=` so HAProxy routes there ahead of the hash. */
  hint: string | null = null;
  redirected = 0;
  reconnects = 0;
  joined = false;
  connectRetries = 0;
  onAgenda: ((t: number) => void) | null = null;
  #acks = new Map<number, (a: Ack) => void>();
  #nextAck = 0;
  #closing = false;
  #joined: Promise<void> | null = null;

  constructor(
    readonly base: string,
    readonly meetingId: number,
    readonly cookie: string,
  ) {}

  /** Connects and joins (following not_owner); resolves once the join was acknowledged. */
  open(): Promise<void> {
    return (this.#joined ??= this.#connectAndJoin().finally(() => (this.#joined = null)));
  }

  async #connectAndJoin(): Promise<void> {
    const deadline = performance.now() + 60_000;
    // The web client's pacing (client/services/socket.ts): Socket.IO's reconnection delay (0.5 s doubling to 5 s,
    // ±50 %), and after not_owner the channel's reroute delay (at once, then 250 ms doubling to 5 s).
    let failures = 0;
    let rerouteDelay = 0;
    for (;;) {
      try {
        await this.#connect();
      } catch (err) {
        // HAProxy answers 503 while its health checks see no node up for the meeting (a node busy past the
        // check's timeout, or one just killed): the web client retries, so does the bench, counted.
        if (performance.now() > deadline || this.#closing) throw err;
        this.connectRetries++;
        await sleep(backoff(failures++));
        continue;
      }
      const ack = await this.cmd('meeting:join', { meetingId: this.meetingId }, 30_000);
      if (ack.text.startsWith('[{"ok":true')) {
        this.joined = true;
        return;
      }
      const owner = /"code":"not_owner".*?"nodeId":"([A-Za-z0-9_-]+)"/.exec(ack.text)?.[1];
      const transient = owner || /"code":"(disconnected|bench_timeout|unavailable)"/.test(ack.text);
      if (!transient || performance.now() > deadline || this.#closing) throw new Error(`meeting ${this.meetingId}: join refused: ${ack.text.slice(0, 300)}`);
      this.#drop();
      if (owner) {
        // The hash sent us to a node that does not own the meeting: reconnect to the owner, as the web client does
        // (a dead owner's lease still holding: the same answer until it expires).
        this.hint = owner;
        this.redirected++;
        await sleep(rerouteDelay);
        rerouteDelay = Math.min(5000, Math.max(250, rerouteDelay * 2));
      } else {
        // Cut before the answer (HAProxy took the node out): again, counted.
        this.connectRetries++;
        await sleep(backoff(failures++));
      }
    }
  }

  #connect(): Promise<void> {
    const u = new URL(this.base);
    const query = `EIO=4&transport=websocket&meeting=${this.meetingId}${this.hint ? `&node=${this.hint}` : ''}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${u.host}/socket.io/?${query}`, { headers: { cookie: this.cookie } });
      this.ws = ws;
      let connected = false;
      ws.on('error', (err) => {
        if (!connected) reject(err);
      });
      ws.on('close', () => {
        for (const [, fn] of this.#acks) fn({ text: '[{"ok":false,"error":{"code":"disconnected"}}]', at: performance.now() });
        this.#acks.clear();
        if (this.ws !== ws) return;
        this.ws = null;
        this.joined = false;
        if (!connected) reject(new Error(`meeting ${this.meetingId}: websocket closed during the handshake`));
        else if (!this.#closing) {
          // A drop (its node killed by the drill, or a ping timeout on a saturated machine): back in, as the web
          // client does, until it is joined again (a dead owner's lease holds the meeting for a few seconds).
          this.reconnects++;
          const again = () => void this.open().catch(() => !this.#closing && setTimeout(again, 5000));
          setTimeout(again, backoff(0));
        }
      });
      ws.on('message', (data: Buffer) => {
        const c0 = data[0];
        if (c0 === ENGINE_MESSAGE) {
          const c1 = data[1];
          if (c1 === 0x32) {
            if (data.toString('latin1', 0, AGENDA_PUSH.length) === AGENDA_PUSH) this.onAgenda?.(performance.now());
          } else if (c1 === 0x33) {
            const s = data.toString();
            const bracket = s.indexOf('[');
            const fn = this.#acks.get(Number(s.slice(2, bracket)));
            if (fn) {
              this.#acks.delete(Number(s.slice(2, bracket)));
              fn({ text: s.slice(bracket), at: performance.now() });
            }
          } else if (c1 === 0x30) {
            connected = true;
            resolve();
          } else if (c1 === 0x34) reject(new Error(`meeting ${this.meetingId}: connect refused: ${data.toString().slice(0, 200)}`));
        } else if (c0 === ENGINE_PING && data.length === 1) ws.send('3');
        else if (c0 === ENGINE_OPEN) {
          this.node = /"sid":"([A-Za-z0-9_-]+)\./.exec(data.toString())?.[1] ?? null;
          ws.send('40{"protocolVersion":1}');
        }
      });
    });
  }

  /** emit-with-ack; resolves with the ack's JSON text (not parsed) and its arrival time. */
  cmd(event: string, payload: object, timeoutMs = 60_000): Promise<Ack> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ text: '[{"ok":false,"error":{"code":"disconnected"}}]', at: performance.now() });
    const id = ++this.#nextAck;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#acks.delete(id);
        resolve({ text: '[{"ok":false,"error":{"code":"bench_timeout"}}]', at: performance.now() });
      }, timeoutMs);
      this.#acks.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      ws.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  #drop() {
    const ws = this.ws;
    this.ws = null;
    ws?.removeAllListeners('close');
    ws?.close();
  }

  close() {
    this.#closing = true;
    this.#drop();
  }
}

interface Meeting {
  spec: LoadMeeting;
  chair: Thin;
  tablets: Thin[];
  flip: number;
  voteId: number | null;
}

const byKey = new Map<string, Meeting[]>();
const ok = (a: Ack) => a.text.startsWith('[{"ok":true');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Socket.IO client's reconnection delay before attempt `n` (0-based): 500 ms doubling to 5 s, randomised ±50 %. */
const backoff = (n: number) => Math.min(5000, 500 * 2 ** n) * (0.5 + Math.random());
const commandId = () => crypto.randomUUID();

async function connect(meetings: LoadMeeting[]) {
  const all: Meeting[] = [];
  for (const spec of meetings) {
    const m: Meeting = { spec, chair: new Thin(spec.url, spec.meetingId, spec.chairCookie), tablets: spec.tabletCookies.map((c) => new Thin(spec.url, spec.meetingId, c)), flip: 0, voteId: null };
    // The chair first: its join is the one that makes the routed node take the meeting's lease.
    await m.chair.open();
    all.push(m);
    const list = byKey.get(spec.key) ?? [];
    list.push(m);
    byKey.set(spec.key, list);
  }
  // Tablets in small batches across meetings, so no node gets every join of a meeting at once.
  const tablets = all.flatMap((m) => m.tablets);
  for (let i = 0; i < tablets.length; i += 20) await Promise.all(tablets.slice(i, i + 20).map((t) => t.open()));
  const nodes: Record<string, Record<number, string | null>> = {};
  for (const m of all) (nodes[m.spec.key] ??= {})[m.spec.meetingId] = m.chair.node;
  const everyone = all.flatMap((m) => [m.chair, ...m.tablets]);
  return { sockets: everyone.length, redirected: everyone.reduce((n, t) => n + t.redirected, 0), reconnects: everyone.reduce((n, t) => n + t.reconnects, 0), connectRetries: everyone.reduce((n, t) => n + t.connectRetries, 0), nodes };
}

/** Each chair moves its meeting to the other agenda item at a random moment within `spreadMs`; latency = chair's send → a tablet's receipt. */
async function fanout(key: string, spreadMs: number) {
  const lat: number[] = [];
  let missed = 0;
  let failed = 0;
  await Promise.all(
    (byKey.get(key) ?? []).map(async (m) => {
      await sleep(Math.random() * spreadMs);
      let t0 = 0;
      let pending = m.tablets.length;
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      for (const t of m.tablets)
        t.onAgenda = (at) => {
          t.onAgenda = null;
          lat.push(at - t0);
          if (--pending === 0) done();
        };
      t0 = performance.now();
      const itemId = m.spec.itemIds[m.flip++ % 2];
      const ack = m.chair.cmd('agenda:goto', { meetingId: m.spec.meetingId, itemId, commandId: commandId() });
      await Promise.race([all, sleep(15_000)]);
      if (!ok(await ack)) failed++;
      for (const t of m.tablets) {
        if (t.onAgenda) missed++;
        t.onAgenda = null;
      }
    }),
  );
  return { lat, missed, failed };
}

async function voteOpen(key: string) {
  let failed = 0;
  await Promise.all(
    (byKey.get(key) ?? []).map(async (m) => {
      const created = await m.chair.cmd('vote:create', { meetingId: m.spec.meetingId, vote: { title: 'Biểu quyết (bench)', kind: 'motion', secret: true }, commandId: commandId() });
      if (!ok(created)) {
        failed++;
        m.voteId = null;
        return;
      }
      m.voteId = (JSON.parse(created.text) as [{ data: { vote: { id: number } } }])[0].data.vote.id;
      if (!ok(await m.chair.cmd('vote:open', { voteId: m.voteId, commandId: commandId() }))) failed++;
    }),
  );
  return { failed };
}

/** Every tablet casts once at a random moment within `spreadMs` (all meetings of this cluster at once); latency = emit → ack. */
async function voteCast(key: string, spreadMs: number) {
  const lat: number[] = [];
  let failed = 0;
  const casts: Promise<void>[] = [];
  for (const m of byKey.get(key) ?? []) {
    if (m.voteId === null) continue;
    m.tablets.forEach((t, i) =>
      casts.push(
        (async () => {
          await sleep(Math.random() * spreadMs);
          const payload = { voteId: m.voteId, choices: i % 4 === 0 ? [1] : i % 10 === 1 ? [] : [0], receipt: crypto.randomBytes(16).toString('base64url'), commandId: commandId() };
          const t0 = performance.now();
          const a = await t.cmd('vote:cast', payload);
          if (ok(a)) lat.push(a.at - t0);
          else failed++;
        })(),
      ),
    );
  }
  await Promise.all(casts);
  return { lat, failed };
}

/** Closes each meeting's vote: how many ballots the result counts against how many tablets voted. */
async function voteClose(key: string) {
  let expected = 0;
  let counted = 0;
  let failed = 0;
  await Promise.all(
    (byKey.get(key) ?? []).map(async (m) => {
      if (m.voteId === null) return;
      expected += m.tablets.length;
      const closed = await m.chair.cmd('vote:close', { voteId: m.voteId, commandId: commandId() });
      if (!ok(closed)) {
        failed++;
        return;
      }
      const r = JSON.parse(closed.text)[0].data.vote.result as { voted: number; abstentions: number };
      counted += r.voted + r.abstentions;
      m.voteId = null;
    }),
  );
  return { expected, counted, failed };
}

type Request =
  | { op: 'connect'; meetings: LoadMeeting[] }
  | { op: 'fanout'; key: string; spreadMs: number }
  | { op: 'vote-open'; key: string }
  | { op: 'vote-cast'; key: string; spreadMs: number }
  | { op: 'vote-close'; key: string }
  | { op: 'health'; key: string }
  | { op: 'cpu' }
  | { op: 'close'; key?: string };

process.on('message', async (req: Request) => {
  try {
    let answer: unknown;
    if (req.op === 'connect') answer = await connect(req.meetings);
    else if (req.op === 'fanout') answer = await fanout(req.key, req.spreadMs);
    else if (req.op === 'vote-open') answer = await voteOpen(req.key);
    else if (req.op === 'vote-cast') answer = await voteCast(req.key, req.spreadMs);
    else if (req.op === 'vote-close') answer = await voteClose(req.key);
    else if (req.op === 'health') {
      const list = (byKey.get(req.key) ?? []).flatMap((m) => [m.chair, ...m.tablets]);
      answer = { total: list.length, joined: list.filter((t) => t.joined).length, reconnects: list.reduce((n, t) => n + t.reconnects, 0), connectRetries: list.reduce((n, t) => n + t.connectRetries, 0) };
    } else if (req.op === 'cpu') {
      const u = process.cpuUsage();
      answer = { userMs: u.user / 1000, systemMs: u.system / 1000 };
    } else {
      for (const [key, list] of byKey) if (!req.key || req.key === key) for (const m of list) for (const t of [m.chair, ...m.tablets]) t.close();
      if (req.key) byKey.delete(req.key);
      answer = { closed: true };
    }
    process.send!(answer);
  } catch (err) {
    process.send!({ error: err instanceof Error ? err.stack : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
