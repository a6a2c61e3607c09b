// Every `tenrec` command, with the one line `tenrec --help` shows. A command's module (and
// what it imports: Fastify, database drivers) is loaded only when that command runs.
import type { Command, Options } from './command.ts';

export interface CommandEntry {
  /** the words after `tenrec` */
  name: string;
  /** synopsis of its positional arguments, for the command list */
  args?: string;
  summary: string;
  load(): Promise<Command<Options>>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'up',
    summary: 'Run the all-in-one cloud in the foreground: every service in one process, state in a directory',
    load: async () => (await import('./commands/up.ts')).command as Command<Options>,
  },
  {
    name: 'serve',
    args: '<service>',
    summary: "Run one service's API against the configured database and message bus",
    load: async () => (await import('./commands/serve.ts')).command as Command<Options>,
  },
  {
    name: 'db sync',
    args: '[service]',
    summary: "Apply a service's pending database migrations",
    load: async () => (await import('./commands/db-sync.ts')).command as Command<Options>,
  },
  {
    name: 'identity bootstrap',
    summary: 'Create or update the admin user, project, roles, region and identity endpoints (keystone-manage bootstrap)',
    load: async () => (await import('./commands/identity-bootstrap.ts')).command as Command<Options>,
  },
  {
    name: 'identity fernet-setup',
    summary: 'Create the Fernet key repository if it holds no keys (keystone-manage fernet_setup)',
    load: async () => (await import('./commands/identity-fernet-setup.ts')).command as Command<Options>,
  },
  {
    name: 'identity fernet-rotate',
    summary: 'Rotate the Fernet token keys (keystone-manage fernet_rotate)',
    load: async () => (await import('./commands/identity-fernet-rotate.ts')).command as Command<Options>,
  },
  {
    name: 'object-store ring',
    args: '<kind> [<action>]',
    summary: 'Build the object store\'s account, container and object rings (swift-ring-builder)',
    load: async () => (await import('./commands/object-store-ring.ts')).command as Command<Options>,
  },
  {
    name: 'object-store replicate',
    summary: "One pass (--once) or a loop of the object store's replicators on this storage node",
    load: async () => (await import('./commands/object-store-workers.ts')).replicate as Command<Options>,
  },
  {
    name: 'object-store audit',
    summary: 'One pass (--once) or a loop of the object auditor on this storage node',
    load: async () => (await import('./commands/object-store-workers.ts')).audit as Command<Options>,
  },
  {
    name: 'object-store update',
    summary: 'One pass (--once) or a loop of the object and container updaters on this storage node',
    load: async () => (await import('./commands/object-store-workers.ts')).update as Command<Options>,
  },
  {
    name: 'object-store expire',
    summary: 'One pass (--once) or a loop of the object expirer (X-Delete-At) on this storage node',
    load: async () => (await import('./commands/object-store-workers.ts')).expire as Command<Options>,
  },
  {
    name: 'identity credential-setup',
    summary: 'Create the key repository that encrypts stored credentials if it holds no keys (keystone-manage credential_setup)',
    load: async () => (await import('./commands/identity-credential-setup.ts')).command as Command<Options>,
  },
  {
    name: 'config show',
    summary: 'Print the effective configuration of every section, secrets masked',
    load: async () => (await import('./commands/config-show.ts')).command as Command<Options>,
  },
];
