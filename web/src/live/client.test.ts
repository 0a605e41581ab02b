import { describe, expect, it } from 'vitest';
import { backoffDelay, LiveClient, type LiveSignal, type SocketLike } from './client';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
}

function harness(onUnauthenticated?: () => void) {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const client = new LiveClient({
    onUnauthenticated,
    connect: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => undefined,
    random: () => 1,
    baseDelay: 500,
    maxDelay: 8000,
  });
  return { client, sockets, timers };
}

describe('backoff', () => {
  it('doubles from the base, capped, with at most half as jitter', () => {
    const one = () => 1;
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 500, 8000, one))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(backoffDelay(2, 500, 8000, () => 0)).toBe(1000);
  });
});

describe('LiveClient', () => {
  it('subscribes on open, without `after` the first time, and dispatches events by topic', () => {
    const { client, sockets } = harness();
    const got: LiveSignal[] = [];
    const other: LiveSignal[] = [];
    client.subscribe('inbox', (s) => got.push(s));
    client.subscribe('record:order/1', (s) => other.push(s));
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ op: 'subscribe', topics: ['inbox', 'record:order/1'] }]);
    sockets[0].frame({ kind: 'hello', seq: 40 });
    expect(client.lastSeq).toBe(40);
    sockets[0].frame({ kind: 'event', topic: 'inbox', event: 'inbox.delivered', seq: 41 });
    expect(got).toHaveLength(1);
    expect(other).toHaveLength(0);
    expect(client.lastSeq).toBe(41);
  });

  it('reconnects with growing delays and resumes after the last seq seen', () => {
    const { client, sockets, timers } = harness();
    client.subscribe('inbox', () => undefined);
    sockets[0].open();
    sockets[0].frame({ kind: 'hello', seq: 7 });
    sockets[0].frame({ kind: 'event', topic: 'inbox', event: 'x', seq: 9 });
    sockets[0].drop();
    expect(timers.map((t) => t.ms)).toEqual([500]);
    timers[0].fn();
    expect(sockets).toHaveLength(2);
    sockets[1].drop(); // fails before opening
    expect(timers.map((t) => t.ms)).toEqual([500, 1000]);
    timers[1].fn();
    sockets[2].open();
    expect(sockets[2].sent).toEqual([{ op: 'subscribe', topics: ['inbox'], after: 9 }]);
    // A resumed connection's hello does not move the position back or forward.
    sockets[2].frame({ kind: 'hello', seq: 12 });
    expect(client.lastSeq).toBe(9);
    // …and resets the backoff.
    sockets[2].drop();
    expect(timers[2].ms).toBe(500);
  });

  it('tells every listener to refetch on resync and moves to its seq', () => {
    const { client, sockets } = harness();
    const a: LiveSignal[] = [];
    const b: LiveSignal[] = [];
    client.subscribe('inbox', (s) => a.push(s));
    client.subscribe('record:order/1', (s) => b.push(s));
    sockets[0].open();
    sockets[0].frame({ kind: 'resync', seq: 100, reason: 'too far behind' });
    expect(a).toEqual([{ kind: 'resync' }]);
    expect(b).toEqual([{ kind: 'resync' }]);
    expect(client.lastSeq).toBe(100);
  });

  it('stops for good and says so when the server ends a signed-out connection', () => {
    let told = 0;
    const { client, sockets, timers } = harness(() => told++);
    client.subscribe('inbox', () => undefined);
    sockets[0].open();
    sockets[0].frame({ kind: 'unauthenticated', detail: 'the session was ended; sign in again' });
    sockets[0].drop();
    expect(told).toBe(1);
    expect(timers).toEqual([]);
    expect(sockets.length).toBe(1);
  });

  it('subscribes late topics on the open socket and unsubscribes the last listener', () => {
    const { client, sockets } = harness();
    const off1 = client.subscribe('inbox', () => undefined);
    sockets[0].open();
    const off2 = client.subscribe('record:t/2', () => undefined);
    const off3 = client.subscribe('record:t/2', () => undefined);
    expect(sockets[0].sent).toEqual([{ op: 'subscribe', topics: ['inbox'] }, { op: 'subscribe', topics: ['record:t/2'] }]);
    off2();
    expect(sockets[0].sent).toHaveLength(2);
    off3();
    expect(sockets[0].sent[2]).toEqual({ op: 'unsubscribe', topics: ['record:t/2'] });
    off1();
  });

  it('does not reconnect once stopped', () => {
    const { client, sockets, timers } = harness();
    client.subscribe('inbox', () => undefined);
    sockets[0].open();
    client.stop();
    sockets[0].onclose?.({});
    expect(timers).toHaveLength(0);
  });
});
