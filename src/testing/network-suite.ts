// The set-up the networking API suites share: on every database backend (SQLite, and
// PostgreSQL and MySQL when reachable) a describe block around its own in-process cloud with
// two member projects, alice and bob, each holding a networking client with its own token.
import { after, before, describe } from 'node:test';
import { cloudBackends } from './backends.ts';
import { startCloud, type ProjectUser, type TestCloud } from './cloud.ts';

/** What a suite's tests use, filled in by the suite's first before hook. */
export interface NetworkSuite {
  cloud: TestCloud;
  alice: ProjectUser;
  bob: ProjectUser;
}

export interface NetworkSuiteOptions {
  /** [network] options of the cloud, e.g. base_mac */
  network?: Record<string, string>;
}

type SuiteBody = (suite: NetworkSuite) => void;

/**
 * Declares `<title> on <backend>` for every backend, as node:test's describe takes its
 * arguments. `body` declares the tests, and before hooks of its own if it needs more set-up:
 * they run once the cloud and the users are there, and its after hooks before the cloud stops.
 */
export async function describeNetworkApi(title: string, body: SuiteBody): Promise<void>;
export async function describeNetworkApi(title: string, options: NetworkSuiteOptions, body: SuiteBody): Promise<void>;
export async function describeNetworkApi(
  title: string, optionsOrBody: NetworkSuiteOptions | SuiteBody, maybeBody?: SuiteBody,
): Promise<void> {
  const [options, body] = typeof optionsOrBody === 'function' ? [{}, optionsOrBody] : [optionsOrBody, maybeBody!];
  for (const backend of await cloudBackends()) {
    describe(`${title} on ${backend.name}`, { skip: backend.skip }, () => {
      const suite = {} as NetworkSuite;
      before(async () => {
        suite.cloud = await startCloud(backend.url, {}, options.network);
        suite.alice = await suite.cloud.projectUser('member');
        suite.bob = await suite.cloud.projectUser('member');
      });
      body(suite);
      after(async () => { await suite.cloud?.stop(); });
    });
  }
}
