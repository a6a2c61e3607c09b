// The requests storage servers make of each other (object → container updates, container →
// account reports): bodiless, bounded by a connect timeout and a response timeout, the
// response body read and dropped. A fresh connection each time, as Swift makes them: a
// pooled one the peer has just closed would fail an update that should have worked.
import { Agent, request } from 'node:http';

export interface BackendTimeouts {
  /** to connect (Swift's conn_timeout, 0.5 s) */
  connectMs: number;
  /** for the whole answer (Swift's node_timeout, 3 s) */
  responseMs: number;
}

export interface BackendTarget {
  /** "ip:port" as X-Container-Host / X-Account-Host carry it ([v6]:port allowed) */
  host: string;
  method: string;
  /** already %-escaped */
  path: string;
  headers: Record<string, string>;
}

export class BackendClient {
  private readonly agent = new Agent({ keepAlive: false });

  constructor(private readonly timeouts: BackendTimeouts) {}

  /** The response status; rejects on connection failure or timeout. */
  async send(target: BackendTarget): Promise<number> {
    const { hostname, port } = splitHost(target.host);
    return new Promise<number>((resolve, reject) => {
      const req = request({ agent: this.agent, host: hostname, port, method: target.method, path: target.path, headers: { ...target.headers, 'content-length': '0' } });
      const connectTimer = setTimeout(() => req.destroy(new Error(`connect to ${target.host} timed out`)), this.timeouts.connectMs);
      const responseTimer = setTimeout(() => req.destroy(new Error(`${target.host} did not answer in time`)), this.timeouts.responseMs);
      const done = () => {
        clearTimeout(connectTimer);
        clearTimeout(responseTimer);
      };
      req.once('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.once('response', (res) => {
        res.resume();
        res.once('end', () => {
          done();
          resolve(res.statusCode ?? 0);
        });
        res.once('error', (err) => {
          done();
          reject(err);
        });
      });
      req.once('error', (err) => {
        done();
        reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** "10.0.0.1:6201" or "[::1]:6201" into its parts. */
export function splitHost(host: string): { hostname: string; port: number } {
  const colon = host.lastIndexOf(':');
  if (colon < 0) throw new Error(`no port in host ${JSON.stringify(host)}`);
  const hostname = host.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(host.slice(colon + 1));
  if (!hostname || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad host ${JSON.stringify(host)}`);
  return { hostname, port };
}
