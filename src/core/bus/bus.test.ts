// One suite, run on memory:// always and on RabbitMQ when it is reachable (required in CI).
// Topics carry a random suffix per run; RabbitMQ queues and exchanges are deleted afterwards.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import pino from 'pino';
import { serviceUrls, skipUnlessReachable } from '../testing/services.ts';
import {
  BusClosedError,
  BusConnectionLostError,
  BusTimeoutError,
  BusUnavailableError,
  BusUrlError,
  NoSuchMethodError,
  openBus,
  RemoteError,
} from './index.ts';
import type { Bus, OpenBusOptions } from './index.ts';

const logger = pino({ level: 'silent' });
const runId = randomBytes(4).toString('hex');
const HOSTS = ['h1', 'h2', 'h3'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; the bound only keeps a broken test from hanging. */
async function waitFor(what: string, check: () => boolean, boundMs = 10_000): Promise<void> {
  const until = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}

class InstanceNotFound extends Error {}

const rabbitSkip = await skipUnlessReachable('RabbitMQ', serviceUrls.rabbitmq);

const transports = [
  { name: 'memory://', url: `memory://bustest_${runId}`, skip: false as const },
  { name: 'amqp://', url: serviceUrls.rabbitmq, skip: rabbitSkip },
];

for (const transport of transports) {
  describe(`bus over ${transport.name}`, { skip: transport.skip }, () => {
    const opts: OpenBusOptions = { logger, reconnectMinMs: 100, reconnectMaxMs: 1000, publishTimeoutMs: 20_000 };
    const buses: Bus[] = [];
    const topics: string[] = [];
    let seq = 0;

    const open = async () => {
      const bus = await openBus(transport.url, opts);
      buses.push(bus);
      return bus;
    };
    const newTopic = () => {
      const topic = `bustest_${runId}_${seq++}`;
      topics.push(topic);
      return topic;
    };

    after(async () => {
      await Promise.all(buses.map((b) => b.close()));
      if (transport.url.startsWith('amqp')) await deleteTopology(transport.url, topics);
    });

    test('call returns the handler value and carries the context', async () => {
      const [client, server] = [await open(), await open()];
      const topic = newTopic();
      await server.serve(topic, 'h1', {
        echo: (args, ctx) => ({ args, topic: ctx.topic, method: ctx.method, context: ctx.context }),
        nothing: () => undefined,
      });
      const reply = await client.call(topic, 'echo', { n: 1, s: 'é' }, { context: { request_id: 'req-1' } });
      assert.deepEqual(reply, { args: { n: 1, s: 'é' }, topic, method: 'echo', context: { request_id: 'req-1' } });
      assert.equal(await client.call(topic, 'nothing'), undefined);
    });

    test('call to topic.host reaches that host only', async () => {
      const client = await open();
      const topic = newTopic();
      for (const host of HOSTS) await (await open()).serve(topic, host, { whoami: () => host });
      const replies = await Promise.all(Array.from({ length: 12 }, () => client.call(`${topic}.h2`, 'whoami')));
      assert.deepEqual(new Set(replies), new Set(['h2']));
    });

    test('calls to a topic are shared by its servers', async () => {
      const client = await open();
      const topic = newTopic();
      const slowly = (host: string) => async () => {
        await sleep(20);
        return host;
      };
      for (const host of ['h1', 'h2']) await (await open()).serve(topic, host, { whoami: slowly(host) });
      const replies = await Promise.all(Array.from({ length: 20 }, () => client.call(topic, 'whoami')));
      assert.deepEqual(new Set(replies), new Set(['h1', 'h2']));
    });

    test('cast is delivered', async () => {
      const [client, server] = [await open(), await open()];
      const topic = newTopic();
      const got: unknown[] = [];
      await server.serve(topic, 'h1', { note: (args) => void got.push(args) });
      await client.cast(topic, 'note', { id: 7 });
      await waitFor('the cast', () => got.length === 1);
      assert.deepEqual(got, [{ id: 7 }]);
    });

    test('a cast sent before any server exists is delivered when one starts', async () => {
      const client = await open();
      const topic = newTopic();
      await client.cast(topic, 'note', { to: 'any' });
      await client.cast(`${topic}.h2`, 'note', { to: 'h2' });
      const got: Array<[string, unknown]> = [];
      const server = await open();
      for (const host of ['h1', 'h2']) await server.serve(topic, host, { note: (args) => void got.push([host, args]) });
      await waitFor('both casts', () => got.length === 2);
      assert.deepEqual(
        got.find(([, args]) => (args as { to: string }).to === 'h2'),
        ['h2', { to: 'h2' }],
      );
    });

    test('fanout reaches every server of the topic', async () => {
      const client = await open();
      const topic = newTopic();
      const got: string[] = [];
      for (const host of HOSTS) await (await open()).serve(topic, host, { refresh: () => void got.push(host) });
      await client.fanout(topic, 'refresh', {});
      await waitFor('every server', () => got.length >= HOSTS.length);
      assert.deepEqual([...got].sort(), HOSTS);
    });

    test('a handler error comes back as RemoteError; a missing method as NoSuchMethodError', async () => {
      const [client, server] = [await open(), await open()];
      const topic = newTopic();
      await server.serve(topic, 'h1', {
        get: () => {
          throw new InstanceNotFound('instance abc could not be found');
        },
        plain: () => Promise.reject(new TypeError('bad type')),
      });
      const err = await client.call(topic, 'get', {}).then(() => assert.fail('resolved'), (e: unknown) => e);
      assert.ok(err instanceof RemoteError);
      assert.equal(err.remoteName, 'InstanceNotFound');
      assert.equal(err.message, 'instance abc could not be found');
      assert.doesNotMatch(String(err.stack), /bus\.test\.ts.*\n.*dispatch/);
      await assert.rejects(client.call(topic, 'plain'), (e: RemoteError) => e.remoteName === 'TypeError' && e.message === 'bad type');
      await assert.rejects(client.call(topic, 'missing'), (e: unknown) => e instanceof NoSuchMethodError && e instanceof RemoteError);
      await assert.rejects(client.call(topic, 'toString'), NoSuchMethodError);
    });

    test('a call without a reply in time fails with BusTimeoutError', async () => {
      const [client, server] = [await open(), await open()];
      const topic = newTopic();
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      await server.serve(topic, 'h1', { hang: () => held });
      try {
        await assert.rejects(client.call(topic, 'hang', {}, { timeoutMs: 200 }), BusTimeoutError);
        await assert.rejects(client.call(newTopic(), 'nobody', {}, { timeoutMs: 200 }), BusTimeoutError);
      } finally {
        release();
      }
    });

    test('a server takes at most `prefetch` messages at a time, acknowledging after the handler', async () => {
      const client = await open();
      const server = await openBus(transport.url, { ...opts, prefetch: 2 });
      buses.push(server);
      const topic = newTopic();
      let running = 0;
      let most = 0;
      let done = 0;
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      await server.serve(topic, 'h1', {
        work: async () => {
          most = Math.max(most, ++running);
          await gate;
          running--;
          done++;
        },
      });
      for (let i = 0; i < 6; i++) await client.cast(topic, 'work');
      await waitFor('two handlers to start', () => running === 2);
      await sleep(100);
      assert.equal(running, 2, 'no third message before an acknowledgement');
      release();
      await waitFor('all six', () => done === 6);
      assert.equal(most, 2);
    });

    test('arguments that are not JSON are refused at the caller', async () => {
      const client = await open();
      await assert.rejects(client.cast(newTopic(), 'x', { n: 1n }), TypeError);
    });

    test('close fails pending calls and refuses new ones', async () => {
      const [client, server] = [await open(), await open()];
      const topic = newTopic();
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      await server.serve(topic, 'h1', { hang: () => held });
      const pending = client.call(topic, 'hang', {}, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      await sleep(50);
      await client.close();
      release();
      assert.ok((await pending) instanceof BusClosedError);
      await assert.rejects(client.call(topic, 'hang'), BusClosedError);
    });

    test('a stopped server receives no more; its queued casts wait for the next one', async () => {
      const [client, first, second] = [await open(), await open(), await open()];
      const topic = newTopic();
      const got: string[] = [];
      const server = await first.serve(topic, 'h1', { note: () => void got.push('first') });
      await server.stop();
      await client.cast(topic, 'note');
      await second.serve(topic, 'h2', { note: () => void got.push('second') });
      await waitFor('the cast', () => got.length === 1);
      assert.deepEqual(got, ['second']);
    });

    if (transport.url.startsWith('amqp')) {
      test('a broker restart in mid-traffic loses no confirmed cast', { timeout: 25_000 }, async (t) => {
        const restartable = await canRestartBroker(transport.url);
        if (restartable !== true) return t.skip(restartable);
        const [client, server] = [await open(), await open()];
        const topic = newTopic();
        const received = new Map<number, number>();
        await server.serve(topic, 'h1', {
          note: ({ i }: { i: number }) => void received.set(i, (received.get(i) ?? 0) + 1),
          ping: () => 'pong',
        });
        const casts: Array<Promise<unknown>> = [];
        const calls: Array<Promise<unknown>> = [];
        const traffic = (async () => {
          for (let i = 0; i < 200; i++) {
            casts.push(client.cast(topic, 'note', { i }).then(() => 'ok', (e: unknown) => e));
            if (i % 10 === 0) calls.push(client.call(topic, 'ping', {}, { timeoutMs: 15_000 }).catch((e: unknown) => e));
            await sleep(10);
          }
        })();
        await waitFor('traffic to flow', () => received.size >= 30);
        try {
          await rabbitmqctl('stop_app');
        } finally {
          await rabbitmqctl('start_app');
        }
        await traffic;
        const outcomes = await Promise.all(casts);
        const failed = outcomes.filter((o) => o !== 'ok');
        assert.deepEqual(failed, [], 'every cast attempted during the outage goes out after it');
        await waitFor('every confirmed cast', () => received.size === 200, 15_000);
        for (const outcome of await Promise.all(calls)) {
          // A call in flight when the link dropped fails clearly; all others are answered.
          if (outcome !== 'pong') assert.ok(outcome instanceof BusConnectionLostError, String(outcome));
        }
        assert.equal(await client.call(topic, 'ping', {}, { timeoutMs: 5000 }), 'pong');
        assert.equal(await server.call(topic, 'ping', {}, { timeoutMs: 5000 }), 'pong');
      });
    }
  });
}

describe('bus URLs', () => {
  test('an unknown scheme is refused, the password masked', async () => {
    await assert.rejects(openBus('http://admin:s3cret@example.org/'), (err: Error) => {
      assert.ok(err instanceof BusUrlError);
      assert.match(err.message, /http:\/\/admin:\*\*\*@example\.org/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
    await assert.rejects(openBus('not a url'), BusUrlError);
  });

  test('a malformed amqp URL is refused, the password masked', async () => {
    await assert.rejects(openBus('amqp://guest:s3cret@host:port/'), (err: Error) => {
      assert.ok(err instanceof BusUrlError);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  test('an unreachable broker fails the open, naming host:port', { timeout: 10_000 }, async () => {
    await assert.rejects(openBus('amqp://guest:s3cret@127.0.0.1:1/', { logger }), (err: Error) => {
      assert.ok(err instanceof BusUnavailableError);
      assert.match(err.message, /127\.0\.0\.1:1\b/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });
});

const exec = promisify(execFile);

function rabbitmqctl(...args: string[]): Promise<unknown> {
  return exec('rabbitmqctl', args, { timeout: 60_000 });
}

/** The restart test drives the local node with rabbitmqctl; true, or why it cannot. */
async function canRestartBroker(url: string): Promise<true | string> {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) return 'RabbitMQ is not local';
  try {
    await rabbitmqctl('status');
    return true;
  } catch (err) {
    return `rabbitmqctl unusable: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Deletes the queues and exchanges the suite's topics made on RabbitMQ. */
async function deleteTopology(url: string, topics: string[]): Promise<void> {
  const conn = await amqplib.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const topic of topics) {
      for (const queue of [topic, ...HOSTS.map((h) => `${topic}.${h}`)]) await ch.deleteQueue(queue);
      await ch.deleteExchange(`${topic}_fanout`);
    }
  } finally {
    await conn.close();
  }
}
