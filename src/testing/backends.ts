// The databases the image (and later service) suites run on: SQLite always, PostgreSQL and
// MySQL when reachable (required in CI, see core/testing/services.ts).
import { serviceUrls, skipUnlessReachable } from '../core/testing/services.ts';

export interface Backend {
  name: string;
  /** what startCloud takes: 'sqlite://' or a server URL scratch databases are made on */
  url: string;
  skip: false | string;
}

export async function imageBackends(): Promise<Backend[]> {
  return [
    { name: 'sqlite', url: 'sqlite://', skip: false },
    { name: 'postgresql', url: serviceUrls.postgresql, skip: await skipUnlessReachable('PostgreSQL', serviceUrls.postgresql) },
    { name: 'mysql', url: serviceUrls.mysql, skip: await skipUnlessReachable('MySQL', serviceUrls.mysql) },
  ];
}
