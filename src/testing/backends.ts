// The databases the service suites run on (see core/testing/services.ts).
export { databaseBackends as cloudBackends, type DatabaseBackend as Backend } from '../core/testing/services.ts';
