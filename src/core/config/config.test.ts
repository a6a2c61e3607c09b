import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bool,
  choice,
  ConfigError,
  defineSection,
  float,
  formatConfig,
  int,
  list,
  loadConfig,
  maskUrlPassword,
  parseIni,
  str,
  url,
} from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tenrec-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
/** Writes a config file and returns its path. */
function file(text: string, name = `tenrec${++fileCount}.conf`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const defaults = defineSection('DEFAULT', {
  debug: bool({ default: false, help: 'log at debug level' }),
  host: str({ default: 'localhost', help: 'name of this host' }),
});
const database = defineSection('database', {
  connection: url({ default: 'sqlite:///tmp/tenrec.db', help: 'SQLAlchemy-style URL' }),
  max_pool_size: int({ default: 5, min: 1, max: 100, help: 'connections per process' }),
  retry_interval: float({ default: 1.5, min: 0, help: 'seconds between retries' }),
  password: str({ help: 'database password', secret: true }),
});
const blockStorage = defineSection('block-storage', {
  backend: choice({ default: 'file', choices: ['file', 'lvm'], help: 'volume backend' }),
  enabled_backends: list({ default: ['file'], help: 'backends to enable' }),
});
const schemas = [defaults, database, blockStorage];

/** The ConfigError thrown by fn; fails the test when fn does not throw one. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('parseIni', () => {
  test('sections, both separators, spaces, comments and blank lines', () => {
    const ini = parseIni(
      [
        '# a comment',
        '; another',
        '',
        '[DEFAULT]',
        'debug=true',
        'host :  node1  ',
        '',
        '[database]',
        'connection = mysql://u:p@db:3306/tenrec',
        'max-pool-size: 10',
        'odd = a # not a comment',
      ].join('\n'),
      'x.conf',
    );
    assert.deepEqual([...ini.keys()], ['DEFAULT', 'database']);
    assert.deepEqual(Object.fromEntries(ini.get('DEFAULT')!), { debug: 'true', host: 'node1' });
    assert.deepEqual(Object.fromEntries(ini.get('database')!), {
      connection: 'mysql://u:p@db:3306/tenrec',
      max_pool_size: '10',
      odd: 'a # not a comment',
    });
  });

  test('continuation lines join with a newline; a blank line ends the value', () => {
    const ini = parseIni('[s]\nmotd = first\n  second\n\tthird\nempty_first =\n  only\n\nnext = 1\n', 'x.conf');
    assert.equal(ini.get('s')!.get('motd'), 'first\nsecond\nthird');
    assert.equal(ini.get('s')!.get('empty_first'), 'only');
    assert.equal(ini.get('s')!.get('next'), '1');
  });

  test('a repeated key: last wins; a repeated section merges', () => {
    const ini = parseIni('[s]\na = 1\nb = 2\n[t]\nc = 3\n[s]\na = 4\n', 'x.conf');
    assert.deepEqual(Object.fromEntries(ini.get('s')!), { a: '4', b: '2' });
  });

  test('section names are case-sensitive; CRLF, BOM and surrounding quotes', () => {
    const ini = parseIni('\uFEFF[Foo]\r\nx = "  padded "\r\n[foo]\r\ny = \'q\'\r\nz = "\r\n', 'x.conf');
    assert.deepEqual([...ini.keys()], ['Foo', 'foo']);
    assert.equal(ini.get('Foo')!.get('x'), '  padded ');
    assert.equal(ini.get('foo')!.get('y'), 'q');
    assert.equal(ini.get('foo')!.get('z'), '"');
  });

  test('malformed lines name file and line, without echoing the line', () => {
    const cases: [string, RegExp][] = [
      ['[s]\nok = 1\njust some words\n', /^bad\.conf:3: expected 'key = value'/],
      ['key = before any section\n', /^bad\.conf:1: option 'key' appears before any \[section\]/],
      ['[s]\n= v\n', /^bad\.conf:2: missing option name/],
      ['[s\n', /^bad\.conf:1: malformed section header/],
      ['[]\n', /^bad\.conf:1: malformed section header/],
      ['[s]\na = 1\n\n  stray\n', /^bad\.conf:4: indented line continues no value/],
    ];
    for (const [text, message] of cases) {
      const err = configError(() => parseIni(text, 'bad.conf'));
      assert.match(err.message, message);
    }
    assert.doesNotMatch(configError(() => parseIni('[s]\npassword hunter2\n', 'bad.conf')).message, /hunter2/);
  });

  test('an indented comment outside a value is a comment', () => {
    const ini = parseIni('[s]\n  # indented comment\na = 1\n', 'x.conf');
    assert.deepEqual(Object.fromEntries(ini.get('s')!), { a: '1' });
  });
});

describe('conversion', () => {
  const load = (section: string, key: string, text: string) =>
    loadConfig({ schemas, env: {}, overrides: { [section]: { [key]: text } } });

  test('each type converts its text', () => {
    const config = loadConfig({
      schemas,
      env: {},
      files: [
        file(
          '[DEFAULT]\ndebug = On\n[database]\nmax_pool_size = +42\nretry_interval = 2.5e-1\n' +
            'connection = postgresql://tenrec@127.0.0.1:5432/tenrec\n' +
            '[block-storage]\nbackend = lvm\nenabled_backends = lvm, , file ,\n',
        ),
      ],
    });
    assert.deepEqual(config.section(defaults), { debug: true, host: 'localhost' });
    assert.deepEqual(config.section(database), {
      connection: 'postgresql://tenrec@127.0.0.1:5432/tenrec',
      max_pool_size: 42,
      retry_interval: 0.25,
      password: '',
    });
    assert.deepEqual(config.section(blockStorage), { backend: 'lvm', enabled_backends: ['lvm', 'file'] });
  });

  test('bool accepts true/false, yes/no, on/off, 1/0 in any case', () => {
    for (const word of ['true', 'YES', 'on', '1']) assert.equal(load('DEFAULT', 'debug', word).section(defaults).debug, true);
    for (const word of ['False', 'no', 'OFF', '0']) assert.equal(load('DEFAULT', 'debug', word).section(defaults).debug, false);
  });

  test('list splits on commas and newlines, drops empties', () => {
    const config = load('block-storage', 'enabled_backends', ' a ,b\n c,,');
    assert.deepEqual(config.section(blockStorage).enabled_backends, ['a', 'b', 'c']);
    assert.deepEqual(load('block-storage', 'enabled_backends', '').section(blockStorage).enabled_backends, []);
  });

  test('url accepts empty and scheme:// forms', () => {
    assert.equal(load('database', 'connection', '').section(database).connection, '');
    assert.equal(load('database', 'connection', 'sqlite://').section(database).connection, 'sqlite://');
    const amqp = 'amqp://guest:guest@127.0.0.1:5672/';
    assert.equal(load('database', 'connection', amqp).section(database).connection, amqp);
  });

  test('bad values name the section, key, value and what was expected', () => {
    const cases: [string, string, string, string][] = [
      ['database', 'max_pool_size', 'ten', 'expected an integer between 1 and 100'],
      ['database', 'max_pool_size', '1.5', 'expected an integer between 1 and 100'],
      ['database', 'max_pool_size', '', 'expected an integer between 1 and 100'],
      ['database', 'max_pool_size', '0', 'expected an integer between 1 and 100'],
      ['database', 'max_pool_size', '101', 'expected an integer between 1 and 100'],
      ['database', 'retry_interval', 'soon', 'expected a number >= 0'],
      ['database', 'retry_interval', '-1', 'expected a number >= 0'],
      ['database', 'retry_interval', 'Infinity', 'expected a number >= 0'],
      ['DEFAULT', 'debug', 'maybe', 'expected one of true/false, yes/no, on/off, 1/0'],
      ['block-storage', 'backend', 'LVM', 'expected one of: file, lvm'],
      ['database', 'connection', 'not a url', 'expected a URL of the form scheme://...'],
      ['database', 'connection', 'http://', 'expected a URL of the form scheme://...'],
    ];
    for (const [section, key, value, expected] of cases) {
      const err = configError(() => load(section, key, value));
      assert.equal(err.message, `override: [${section}] ${key}: invalid value ${JSON.stringify(value)}: ${expected}`);
      assert.deepEqual([err.origin, err.section, err.key], ['override', section, key]);
    }
  });

  test('a bad value in a file names the file', () => {
    const path = file('[database]\nmax_pool_size = lots\n');
    const err = configError(() => loadConfig({ schemas, env: {}, files: [path] }));
    assert.equal(err.message, `${path}: [database] max_pool_size: invalid value "lots": expected an integer between 1 and 100`);
  });

  test('a bad value is reported even when a later layer replaces it', () => {
    const path = file('[database]\nmax_pool_size = lots\n');
    const env = { TENREC_DATABASE_MAX_POOL_SIZE: '7' };
    assert.throws(() => loadConfig({ schemas, env, files: [path] }), ConfigError);
  });

  test('secrets and URL passwords are masked in error messages', () => {
    const secretUrl = defineSection('secret', { transport_url: url({ help: 'bus', secret: true }) });
    const err = configError(() =>
      loadConfig({ schemas: [secretUrl], env: { TENREC_SECRET_TRANSPORT_URL: 'rabbit//u:hunter2@h' } }),
    );
    assert.equal(err.message, 'TENREC_SECRET_TRANSPORT_URL: [secret] transport_url: invalid value "****": expected a URL of the form scheme://...');
    // Not a secret option, but the password inside a URL that fails to parse is still hidden.
    const err2 = configError(() => load('database', 'connection', 'mysql://u:pa/ss@db:x/tenrec'));
    assert.doesNotMatch(err2.message, /pa\/ss/);
    assert.match(err2.message, /mysql:\/\/u:\*\*\*\*@db:x\/tenrec/);
  });
});

describe('loadConfig', () => {
  test('defaults when nothing is given', () => {
    const config = loadConfig({ schemas, env: {} });
    assert.equal(config.section(database).max_pool_size, 5);
    assert.ok(config.entries().every((e) => e.source === 'default'));
  });

  test('precedence: defaults < file 1 < file 2 < environment < overrides', () => {
    const first = file('[DEFAULT]\nhost = one\ndebug = yes\n[database]\nmax_pool_size = 10\nretry_interval = 3\npassword = p1\n');
    const second = file('[database]\nmax_pool_size = 20\nretry_interval = 4\n');
    const config = loadConfig({
      schemas,
      files: [first, second],
      env: { TENREC_DATABASE_RETRY_INTERVAL: '5', TENREC_DATABASE_PASSWORD: 'p2', TENREC_DEFAULT_HOST: 'envhost' },
      overrides: { database: { password: 'p3' } },
    });
    assert.deepEqual(config.section(defaults), { debug: true, host: 'envhost' });
    assert.deepEqual(config.section(database), {
      connection: 'sqlite:///tmp/tenrec.db',
      max_pool_size: 20,
      retry_interval: 5,
      password: 'p3',
    });
    const source = (section: string, key: string) =>
      config.entries().find((e) => e.section === section && e.key === key)?.source;
    assert.equal(source('DEFAULT', 'debug'), first);
    assert.equal(source('DEFAULT', 'host'), 'TENREC_DEFAULT_HOST');
    assert.equal(source('database', 'connection'), 'default');
    assert.equal(source('database', 'max_pool_size'), second);
    assert.equal(source('database', 'retry_interval'), 'TENREC_DATABASE_RETRY_INTERVAL');
    assert.equal(source('database', 'password'), 'override');
  });

  test('entries() lists every option in schema order, DEFAULT first, with secret flags', () => {
    const config = loadConfig({ schemas: [database, blockStorage, defaults], env: {} });
    assert.deepEqual(
      config.entries().map((e) => `${e.section}.${e.key}:${e.secret}`),
      [
        'DEFAULT.debug:false',
        'DEFAULT.host:false',
        'database.connection:false',
        'database.max_pool_size:false',
        'database.retry_interval:false',
        'database.password:true',
        'block-storage.backend:false',
        'block-storage.enabled_backends:false',
      ],
    );
  });

  test('hyphenated sections and keys in the environment', () => {
    const config = loadConfig({
      schemas,
      env: { TENREC_BLOCK_STORAGE_BACKEND: 'lvm', TENREC_BLOCK_STORAGE_ENABLED_BACKENDS: 'lvm,file' },
    });
    assert.deepEqual(config.section(blockStorage), { backend: 'lvm', enabled_backends: ['lvm', 'file'] });
    const fromFile = loadConfig({ schemas, env: {}, files: [file('[block-storage]\nenabled-backends = lvm\n')] });
    assert.deepEqual(fromFile.section(blockStorage).enabled_backends, ['lvm']);
  });

  test('TENREC_* variables that match no section are ignored; unset ones are skipped', () => {
    const config = loadConfig({
      schemas,
      env: { TENREC_REQUIRE_SERVICES: '1', TENREC_TEST_POSTGRESQL: 'x', PATH: '/bin', TENREC_DATABASE_PASSWORD: undefined },
    });
    assert.equal(config.section(database).password, '');
  });

  test('an unknown option in a matching section prefix names the variable', () => {
    const err = configError(() => loadConfig({ schemas, env: { TENREC_DATABASE_CONECTION: 'sqlite://' } }));
    assert.equal(err.message, "TENREC_DATABASE_CONECTION: [database] conection: unknown option (did you mean 'connection'?)");
    assert.throws(() => loadConfig({ schemas, env: { TENREC_DEFAULT_NOPE: '1' } }), /TENREC_DEFAULT_NOPE: \[DEFAULT\] nope/);
  });

  test('a section whose name prefixes another: the longest prefix wins', () => {
    const block = defineSection('block', { size: int({ default: 1, help: 'size' }) });
    const config = loadConfig({
      schemas: [block, blockStorage],
      env: { TENREC_BLOCK_SIZE: '7', TENREC_BLOCK_STORAGE_BACKEND: 'lvm' },
    });
    assert.equal(config.section(block).size, 7);
    assert.equal(config.section(blockStorage).backend, 'lvm');
    const err = configError(() => loadConfig({ schemas: [block, blockStorage], env: { TENREC_BLOCK_STORAGE_SIZE: '7' } }));
    assert.match(err.message, /^TENREC_BLOCK_STORAGE_SIZE: \[block-storage\] size: unknown option/);
  });

  test('two options mapping to one environment variable is a programming error', () => {
    const block = defineSection('block', { storage_backend: str({ help: 'x' }) });
    assert.throws(() => loadConfig({ schemas: [block, blockStorage], env: {} }), /both map to TENREC_BLOCK_STORAGE_BACKEND/);
  });

  test('unknown option and unknown section in a file name the file, section and key', () => {
    const path = file('[database]\nconection = sqlite://\n', 'tenrec.conf');
    const err = configError(() => loadConfig({ schemas, env: {}, files: [path] }));
    assert.equal(err.message, `${path}: [database] conection: unknown option (did you mean 'connection'?)`);
    assert.deepEqual([err.origin, err.section, err.key], [path, 'database', 'conection']);

    const path2 = file('[databse]\nconnection = sqlite://\n');
    const err2 = configError(() => loadConfig({ schemas, env: {}, files: [path2] }));
    assert.equal(err2.message, `${path2}: [databse] connection: unknown section (did you mean 'database'?)`);

    const path3 = file('[default]\nhost = x\n[zzz]\n');
    assert.match(configError(() => loadConfig({ schemas, env: {}, files: [path3] })).message, /\[default\] host: unknown section \(did you mean 'DEFAULT'\?\)/);
    const path4 = file('[zzz]\n');
    assert.equal(
      configError(() => loadConfig({ schemas, env: {}, files: [path4] })).message,
      `${path4}: [zzz]: unknown section (known sections: DEFAULT, database, block-storage)`,
    );
  });

  test('an unknown override is an error', () => {
    assert.throws(() => loadConfig({ schemas, env: {}, overrides: { database: { nope: '1' } } }), /^ConfigError: override: \[database\] nope: unknown option$/);
    assert.throws(() => loadConfig({ schemas, env: {}, overrides: { nope: { a: '1' } } }), /override: \[nope\] a: unknown section/);
  });

  test('[DEFAULT] is always a known section', () => {
    const config = loadConfig({ schemas: [database], env: {}, files: [file('[DEFAULT]\n# nothing yet\n')] });
    assert.equal(config.section(database).max_pool_size, 5);
  });

  test('a missing file is named', () => {
    const missing = join(dir, 'missing.conf');
    const err = configError(() => loadConfig({ schemas, env: {}, files: [missing] }));
    assert.equal(err.message, `${missing}: config file not found`);
  });

  test('parse errors from a file carry file and line', () => {
    const path = file('[database]\n\nthis is wrong\n');
    assert.match(configError(() => loadConfig({ schemas, env: {}, files: [path] })).message, new RegExp(`^${path}:3: `));
  });

  test('section() values are typed and frozen', () => {
    const config = loadConfig({ schemas, env: {} });
    const db = config.section(database);
    assert.ok(Object.isFrozen(db));
    assert.ok(Object.isFrozen(config.section(blockStorage).enabled_backends));
    assert.throws(() => {
      (db as { max_pool_size: number }).max_pool_size = 1;
    }, TypeError);
    assert.equal(config.section(database), db);
  });

  test('section() of a schema not given to loadConfig throws', () => {
    const config = loadConfig({ schemas: [database], env: {} });
    assert.throws(() => config.section(blockStorage), /not passed to loadConfig/);
  });
});

describe('schemas', () => {
  test('schemas naming one section merge', () => {
    const computeDefaults = defineSection('DEFAULT', { compute_driver: choice({ default: 'fake', choices: ['fake', 'qemu'], help: 'virt' }) });
    const config = loadConfig({ schemas: [defaults, computeDefaults], env: { TENREC_DEFAULT_COMPUTE_DRIVER: 'qemu' } });
    assert.deepEqual(config.section(defaults), { debug: false, host: 'localhost' });
    assert.deepEqual(config.section(computeDefaults), { compute_driver: 'qemu' });
  });

  test('the same schema given twice is fine; colliding keys throw', () => {
    assert.doesNotThrow(() => loadConfig({ schemas: [database, database], env: {} }));
    const other = defineSection('database', { connection: str({ help: 'again' }) });
    assert.throws(() => loadConfig({ schemas: [database, other], env: {} }), /\[database\] connection is defined by two schemas/);
  });

  test('bad definitions are programming errors', () => {
    assert.throws(() => int({ default: 0, min: 1, help: 'x' }), /out of range/);
    assert.throws(() => int({ default: 1.5, help: 'x' }), /not an integer/);
    assert.throws(() => int({ default: 1, min: 5, max: 2, help: 'x' }), /greater than max/);
    assert.throws(() => choice({ default: 'c' as 'a', choices: ['a', 'b'], help: 'x' }), /not one of its choices/);
    assert.throws(() => url({ default: 'nope', help: 'x' }), /not a URL/);
    assert.throws(() => defineSection('bad name', {}), /not valid/);
    assert.throws(() => defineSection('s', { maxPool: int({ default: 1, help: 'x' }) }), /lower_snake_case/);
  });

  test('defaults: str and url empty, list empty', () => {
    assert.equal(str({ help: 'x' }).default, '');
    assert.equal(url({ help: 'x' }).default, '');
    assert.deepEqual(list({ help: 'x' }).default, []);
  });
});

describe('formatConfig', () => {
  test('INI blocks with sources; secrets and URL passwords masked', () => {
    const path = file('[database]\nconnection = mysql+pymysql://tenrec:s3cret@db/tenrec\npassword = hunter2\n');
    const config = loadConfig({
      schemas,
      files: [path],
      env: { TENREC_BLOCK_STORAGE_ENABLED_BACKENDS: 'file,lvm' },
      overrides: { DEFAULT: { debug: 'true' } },
    });
    const text = formatConfig(config);
    assert.equal(
      text,
      [
        '[DEFAULT]',
        'debug = true  # override',
        'host = localhost  # default',
        '',
        '[database]',
        `connection = mysql+pymysql://tenrec:****@db/tenrec  # ${path}`,
        'max_pool_size = 5  # default',
        'retry_interval = 1.5  # default',
        `password = ****  # ${path}`,
        '',
        '[block-storage]',
        'backend = file  # default',
        'enabled_backends = file, lvm  # TENREC_BLOCK_STORAGE_ENABLED_BACKENDS',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(text, /s3cret|hunter2/);
  });

  test('an empty secret shows as empty; multi-line values are indented', () => {
    const motd = defineSection('DEFAULT', { motd: str({ help: 'banner' }) });
    const config = loadConfig({ schemas: [database, motd], env: {}, files: [file('[DEFAULT]\nmotd = hello\n  world\n')] });
    const text = formatConfig(config);
    assert.match(text, /^password =  # default$/m);
    assert.match(text, /^motd = hello\n {4}world {2}# /m);
  });
});

describe('maskUrlPassword', () => {
  test('masks only the password', () => {
    const cases: [string, string][] = [
      ['amqp://guest:guest@127.0.0.1:5672/', 'amqp://guest:****@127.0.0.1:5672/'],
      ['mysql://u:p@ss@db/x', 'mysql://u:****@db/x'],
      ['mysql://u:@db/x', 'mysql://u:****@db/x'],
      ['postgresql://tenrec@db:5432/x', 'postgresql://tenrec@db:5432/x'],
      ['http://host:80/path@thing', 'http://host:80/path@thing'],
      ['sqlite:///var/lib/tenrec.db', 'sqlite:///var/lib/tenrec.db'],
      ['rabbit://a:x@h1:5672,b:y@h2:5672/', 'rabbit://a:****@h2:5672/'],
      ['not a url', 'not a url'],
    ];
    for (const [input, masked] of cases) assert.equal(maskUrlPassword(input), masked, input);
  });
});
