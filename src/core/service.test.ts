import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import Fastify from 'fastify';
import pino from 'pino';
import { Launcher, ListenError, every, runService } from './service.ts';

/** A logger whose lines land in `lines`, parsed. */
function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** Resolves 'refused' when nothing listens on the port any more, 'connected' otherwise. */
function tryConnect(port: number): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', () => resolve('refused'));
  });
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never happened: ${what}`);
}

describe('runService', () => {
  test('a stop lets the request in flight finish, refuses new connections, runs onStop, exits 0', async () => {
    const { logger, lines } = capturingLogger();
    const app = Fastify();
    let release!: () => void;
    const entered = new Promise<void>((resolve) => {
      app.get('/slow', async () => {
        resolve();
        await new Promise<void>((r) => (release = r));
        return { done: true };
      });
    });
    const events: string[] = [];
    const exits: number[] = [];
    const launcher = await runService({
      name: 'test', app, port: 0, host: '127.0.0.1', logger,
      onStop: () => void events.push('onStop'),
      exit: (code) => void exits.push(code),
    });
    try {
      const [{ port, url }] = launcher.endpoints;
      assert.equal(url, `http://127.0.0.1:${port}`);
      assert.ok(lines.some((l) => l.msg === `test listening on ${url}`));

      const inFlight = fetch(`${url}/slow`).then(async (res) => {
        events.push('answered');
        return { status: res.status, body: await res.json() };
      });
      await entered;

      const stopping = launcher.stop('SIGTERM'); // what the SIGTERM handler calls
      await eventually(async () => (await tryConnect(port)) === 'refused', 'new connections refused');
      assert.deepEqual(events, [], 'onStop must wait for the request in flight');

      release();
      assert.deepEqual(await inFlight, { status: 200, body: { done: true } });
      assert.equal(await stopping, 0);
      assert.deepEqual(events, ['answered', 'onStop']);
      assert.deepEqual(exits, [0]);
      assert.equal(launcher.stop('SIGINT'), stopping, 'a second stop is the same stop');
      assert.deepEqual(exits, [0]);
    } finally {
      release?.();
      await app.close();
    }
  });

  test('a port in use is a ListenError naming the service and address; what was started is closed', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { logger } = capturingLogger();
      const first = Fastify();
      const second = Fastify();
      const stopped: string[] = [];
      const launcher = new Launcher({ logger, exit: () => assert.fail('must not exit') });
      launcher.add({ name: 'first', app: first, port: 0, host: '127.0.0.1' });
      launcher.add({ name: 'second', app: second, port, host: '127.0.0.1' });
      launcher.onStop(() => void stopped.push('hook'));
      await assert.rejects(launcher.start(), (err: unknown) => {
        assert.ok(err instanceof ListenError);
        assert.equal(err.code, 'EADDRINUSE');
        assert.match(err.message, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port} for second: address already in use`));
        return true;
      });
      assert.deepEqual(stopped, ['hook']);
      assert.equal(first.server.listening, false);
    } finally {
      blocker.close();
    }
  });

  test('reload runs every hook even when one fails', async () => {
    const { logger, lines } = capturingLogger();
    const launcher = new Launcher({ logger, exit: () => {} });
    const ran: string[] = [];
    launcher.onReload(() => {
      ran.push('a');
      throw new Error('bad keys');
    });
    launcher.onReload(() => void ran.push('b'));
    await launcher.reload();
    assert.deepEqual(ran, ['a', 'b']);
    assert.ok(lines.some((l) => l.level === 50 && l.err?.message === 'bad keys'));
  });
});

describe('every', () => {
  test('runs repeatedly, never two runs at once, logs errors and carries on; the stopper waits for a run', async () => {
    const { logger, lines } = capturingLogger();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let finished = 0;
    let reachedFive!: () => void;
    const five = new Promise<void>((r) => (reachedFive = r));
    const stop = every(
      1, // far shorter than a run: the next one must wait for the one in progress
      async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        finished++;
        if (runs === 5) reachedFive();
        if (runs === 2) throw new Error('flaky');
      },
      { logger, name: 'sweeper' },
    );
    await five;
    await stop();
    assert.equal(active, 0, 'the stopper waited for the run in progress');
    assert.equal(finished, runs);
    const after = runs;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs, after, 'no run after stop');
    assert.equal(maxActive, 1);
    const failure = lines.find((l) => l.msg === 'periodic task failed: sweeper');
    assert.equal(failure?.err?.message, 'flaky');
  });

  test('rejects an interval that is not a positive number', () => {
    assert.throws(() => every(0, () => {}), RangeError);
    assert.throws(() => every(Number.NaN, () => {}), RangeError);
  });
});
