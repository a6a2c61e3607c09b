// The image service refuses a store configuration it cannot honour, with a message naming the
// option, and stops even when the services its swift store talks to do not answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config/index.ts';
import { silentLogger } from '../core/log/logger.ts';
import { createImageService, ImageConfigError } from './service.ts';
import { imageSection } from './settings.ts';

function start(options: Record<string, string>) {
  const config = loadConfig({ env: {}, schemas: [imageSection], overrides: { image: { connection: 'sqlite://', ...options } } });
  return createImageService({ config, logger: silentLogger, stateDir: '/nonexistent-tenrec-state' });
}

test('bad [image] store settings are configuration errors naming the option', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ enabled_backends: 'local:rbd' }, /enabled_backends: 'local:rbd' has an unknown store type \(types: file, swift\)/],
    [{ enabled_backends: 'local' }, /enabled_backends: 'local' has an unknown store type/],
    [{ enabled_backends: 'a:file:x' }, /'a:file:x' is not id:type/],
    [{ enabled_backends: '../up:file' }, /'..\/up:file' is not id:type/],
    [{ enabled_backends: 'local:file, s1:swift, s2:swift' }, /at most one swift store/],
    [{ enabled_backends: 'local:file, swift:swift', swift_store_container: 'a/b' }, /swift_store_container: 'a\/b' is not a plain name/],
    [{ enabled_backends: 'local:file', default_backend: 'swift' }, /default_backend: 'swift' is not one of enabled_backends/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(start(options), (err: unknown) => err instanceof ImageConfigError && message.test(err.message), JSON.stringify(options));
  }
});

test('close() returns while the start-up sweep of the swift store waits on an identity that never answers', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket)); // accepts, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const stateDir = mkdtempSync(join(tmpdir(), 'tenrec-image-service-'));
  try {
    const config = loadConfig({
      env: {},
      schemas: [imageSection],
      overrides: {
        image: {
          connection: `sqlite:///${join(stateDir, 'image.db')}`,
          enabled_backends: 'local:file, swift:swift',
          auth_url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v3`,
          service_password: 'pw',
        },
      },
    });
    const service = await createImageService({ config, logger: silentLogger, stateDir, recoverOlderThanMs: 0 });
    for (let i = 0; i < 100 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(sockets.length > 0, 'the sweep is waiting on identity');
    const closed = await Promise.race([service.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 3000, 'still closing after 3 s'))]);
    assert.equal(closed, 'closed');
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
