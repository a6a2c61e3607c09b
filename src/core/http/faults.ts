// Fault bodies in each upstream service's own shape.
import { statusTitles } from './errors.ts';

export type FaultRenderer = (status: number, message: string, type?: string) => unknown;

const title = (status: number) => statusTitles[status] ?? 'Error';

/** Keystone: {"error": {"code": 404, "title": "Not Found", "message": "..."}} */
export const keystoneFault: FaultRenderer = (status, message) => ({
  error: { code: status, title: title(status), message },
});

/** Nova, Cinder, Glance-style: {"itemNotFound": {"code": 404, "message": "..."}} */
const novaNames: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};
export const novaFault: FaultRenderer = (status, message) => ({
  [novaNames[status] ?? 'computeFault']: { code: status, message },
});

/**
 * Glance (and other WebOb-based APIs) answer a JSON client with WebOb's error document:
 * {"message": "...", "code": "404 Not Found", "title": "Not Found"}
 */
export const webobFault: FaultRenderer = (status, message) => ({
  message,
  code: `${status} ${title(status)}`,
  title: title(status),
});

/** Neutron: {"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}} */
const neutronTypes: Record<number, string> = {
  400: 'BadRequest',
  401: 'NotAuthorized',
  403: 'PolicyNotAuthorized',
  404: 'NotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};
export const neutronFault: FaultRenderer = (status, message, type) => ({
  NeutronError: { type: type ?? neutronTypes[status] ?? 'NeutronError', message, detail: '' },
});
