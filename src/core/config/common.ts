// The [DEFAULT] options every Tenrec process reads, whatever service it runs. Services add
// their own sections (and may add their own [DEFAULT] options) beside this one.
import { hostname } from 'node:os';
import { choice, str, url } from './options.ts';
import { DEFAULT_SECTION, defineSection } from './schema.ts';

export const defaultSection = defineSection(DEFAULT_SECTION, {
  state_dir: str({
    default: '',
    help: 'Directory of local state (SQLite files, Fernet keys, clouds.yaml). Empty: $TENREC_STATE_DIR, else ./.tenrec.',
  }),
  transport_url: url({
    default: 'memory://',
    help: 'Message bus URL: memory:// (one process) or amqp://user:pass@host:5672/vhost (RabbitMQ).',
  }),
  host: str({ default: hostname(), help: 'Name of this host: the bus topic suffix of its agents and the host in URLs it advertises.' }),
  bind_host: str({ default: '127.0.0.1', help: 'Address the APIs listen on (0.0.0.0 for every interface).' }),
  log_level: choice({ default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'Lowest level of the JSON log lines written to stderr.' }),
});
