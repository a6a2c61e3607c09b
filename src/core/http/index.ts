export { createApp, type AppOptions } from './app.ts';
export { HttpError, typedError, badRequest, unauthorized, forbidden, notFound, conflict, statusTitles } from './errors.ts';
export { keystoneFault, novaFault, webobFault, neutronFault, type FaultRenderer } from './faults.ts';
export { parsePaging, pageAfterMarker, nextLink, type Page } from './paging.ts';
export {
  negotiateMicroversion, parseMicroversion, formatMicroversion, compareMicroversions, atLeast,
  type Microversion, type MicroversionRange,
} from './microversion.ts';
export { versionEntry, publicBaseUrl, type VersionEntry } from './versions.ts';
