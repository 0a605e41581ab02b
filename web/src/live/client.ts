// The one WebSocket to `/api/v1/live`, shared by every page. Topics are reference-counted
// (`subscribe` returns the unsubscribe); the client reconnects with exponential backoff and
// resumes after the last `seq` it saw, so nothing committed while it was away is missed. When
// the server cannot replay (`resync`), every listener is told to refetch what it shows.

export interface LiveEvent {
  kind: 'event';
  topic: string;
  event: string;
  seq: number;
  data?: unknown;
}
/** What a listener hears: an event on its topic, or `resync` (refetch everything). */
export type LiveSignal = LiveEvent | { kind: 'resync' };
export type Listener = (signal: LiveSignal) => void;

/** The part of `WebSocket` the client uses (tests pass a fake). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface LiveOptions {
  connect: () => SocketLike;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** 0..1; the share of the delay kept fixed is `1 - jitter`. */
  random?: () => number;
  baseDelay?: number;
  maxDelay?: number;
  /** The server ended the connection because its session or token no longer holds. */
  onUnauthenticated?: () => void;
}

const OPEN = 1;

/** Backoff before reconnect attempt `attempt` (0-based): base·2^n, capped, with up to half as jitter. */
export function backoffDelay(attempt: number, base = 500, max = 30_000, random: () => number = Math.random): number {
  const full = Math.min(max, base * 2 ** Math.min(attempt, 16));
  return Math.round(full / 2 + (full / 2) * random());
}

export class LiveClient {
  private socket: SocketLike | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private attempt = 0;
  private timer: unknown = null;
  private stopped = true;
  /** The highest `seq` seen (from `hello`, events or `resync`); resumes from here. */
  lastSeq: number | null = null;

  constructor(private opts: LiveOptions) {}

  get connected(): boolean {
    return this.socket?.readyState === OPEN;
  }

  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    const fresh = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    set.add(listener);
    if (fresh && this.connected) this.send({ op: 'subscribe', topics: [topic] });
    if (this.stopped) this.start();
    return () => {
      const s = this.listeners.get(topic);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.listeners.delete(topic);
        if (this.connected) this.send({ op: 'unsubscribe', topics: [topic] });
      }
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    if (this.timer !== null) (this.opts.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    s?.close();
  }

  private send(msg: unknown) {
    this.socket?.send(JSON.stringify(msg));
  }

  private open() {
    let socket: SocketLike;
    try {
      socket = this.opts.connect();
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const topics = [...this.listeners.keys()];
      if (topics.length === 0) return;
      this.send(this.lastSeq === null ? { op: 'subscribe', topics } : { op: 'subscribe', topics, after: this.lastSeq });
    };
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.retry();
    };
    socket.onerror = () => undefined;
  }

  private retry() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt++, this.opts.baseDelay, this.opts.maxDelay, this.opts.random);
    this.timer = (this.opts.setTimer ?? setTimeout)(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
  }

  private receive(raw: unknown) {
    let frame: { kind?: string; seq?: number; topic?: string; event?: string; data?: unknown };
    try {
      frame = JSON.parse(String(raw)) as typeof frame;
    } catch {
      return;
    }
    switch (frame.kind) {
      case 'hello':
        this.attempt = 0;
        // A first connection starts from the head; a resumed one keeps its own position.
        if (this.lastSeq === null && typeof frame.seq === 'number') this.lastSeq = frame.seq;
        break;
      case 'event': {
        if (typeof frame.seq === 'number') this.lastSeq = Math.max(this.lastSeq ?? 0, frame.seq);
        const set = frame.topic ? this.listeners.get(frame.topic) : undefined;
        for (const l of [...(set ?? [])]) l(frame as LiveEvent);
        break;
      }
      case 'resync':
        if (typeof frame.seq === 'number') this.lastSeq = frame.seq;
        for (const set of [...this.listeners.values()]) for (const l of [...set]) l({ kind: 'resync' });
        break;
      case 'unauthenticated':
        // Signed out elsewhere (or the account was disabled): reconnecting would only fail.
        this.stop();
        this.opts.onUnauthenticated?.();
        break;
      default:
        break;
    }
  }
}

let shared: LiveClient | null = null;
let whenSignedOut: (() => void) | null = null;

/** What the app does when the live connection says the session has ended. */
export function onSignedOutElsewhere(fn: (() => void) | null) {
  whenSignedOut = fn;
}

/** The page's one client, connecting on first use. */
export function live(): LiveClient {
  if (!shared) {
    shared = new LiveClient({
      connect: () => {
        const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
        return new WebSocket(`${proto}//${location.host}/api/v1/live`) as unknown as SocketLike;
      },
      onUnauthenticated: () => whenSignedOut?.(),
    });
  }
  return shared;
}

/** Stops the shared client (signing out). */
export function stopLive() {
  shared?.stop();
  shared = null;
}
