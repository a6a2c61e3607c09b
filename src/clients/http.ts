// A small JSON REST client over fetch, the base of every typed client in src/clients.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly method: string,
    readonly url: string,
  ) {
    super(`${method} ${url} → ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** raw body text, sent as application/json (for malformed-input tests) */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  /** Sends a request and returns status, headers and parsed body, whatever the status. */
  async send<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const token = opts.token ?? this.token;
    if (token) headers['x-auth-token'] = token;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** Like send, but throws ApiError unless the status is 2xx. */
  async call<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const res = await this.send<T>(method, path, opts);
    if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, res.body, method, path);
    return res;
  }
}
