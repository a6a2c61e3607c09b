// The error a handler throws to answer with an upstream fault body. Each service renders it in
// its own upstream shape (see faults.ts); the status decides the title.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** the upstream fault's own type name where a service has them (Neutron: NetworkNotFound, ...) */
    readonly type?: string,
  ) {
    super(message);
  }
}

/** An HttpError with an upstream type name, e.g. faultOf(404, 'NetworkNotFound', 'Network x could not be found.'). */
export const typedError = (status: number, type: string, message: string) => new HttpError(status, message, {}, type);

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = (message = 'The request you have made requires authentication.') =>
  new HttpError(401, message);
export const forbidden = (message = 'You are not authorized to perform the requested action.') =>
  new HttpError(403, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);

export const statusTitles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};
