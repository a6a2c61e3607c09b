// The image service refuses a store configuration it cannot honour, with a message naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
