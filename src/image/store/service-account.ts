/**
 * The object store's view of one account as the image service's own user: Glance's
 * single-tenant swift store, where every image lives in the service project's account.
 * The token comes from the service's Identity session; the account URL from the session's
 * catalog (the object-store endpoint with the service project filled in), or from
 * configuration when the operator names it.
 *
 * A 401 means the token went stale (revoked, keys rotated): the session logs in again and a
 * call without a body is tried once more. A put is not retried: its body has been read.
 */
import { ObjectStoreClient, ObjectStoreError } from '../../clients/object-store.ts';
import type { EndpointQuery, ServiceSession } from '../../core/auth/index.ts';
import type { ListedObject, ObjectInfo, ObjectStorageClient } from './object-storage-client.ts';
import type { ByteRange } from './types.ts';

export interface ServiceAccountOptions {
  session: ServiceSession;
  /** the account URL (http://host:8080/v1/AUTH_<project id>); looked up in the catalog when absent */
  accountUrl?: string;
  /** how the catalog is searched when accountUrl is absent */
  endpoint?: EndpointQuery;
}

export class ServiceAccountStorage implements ObjectStorageClient {
  private readonly session: ServiceSession;
  private readonly accountUrl?: string;
  private readonly endpoint: EndpointQuery;

  constructor(options: ServiceAccountOptions) {
    this.session = options.session;
    this.accountUrl = options.accountUrl || undefined;
    this.endpoint = options.endpoint ?? { type: 'object-store' };
  }

  ensureContainer(container: string): Promise<void> {
    return this.retried((client) => client.ensureContainer(container));
  }

  async putObject(container: string, name: string, body: NodeJS.ReadableStream, opts: { contentLength?: number; contentType?: string } = {}): Promise<{ etag: string }> {
    const client = await this.client(false);
    try {
      return await client.putObject(container, name, body, opts);
    } catch (err) {
      if (isRefused(err)) await this.session.token(true); // the next call has a fresh token
      throw err;
    }
  }

  async getObject(container: string, name: string, range?: ByteRange): Promise<{ stream: NodeJS.ReadableStream; size: number }> {
    const { stream, size } = await this.retried((client) => client.getObject(container, name, range));
    return { stream, size };
  }

  deleteObject(container: string, name: string): Promise<void> {
    return this.retried((client) => client.deleteObject(container, name));
  }

  async headObject(container: string, name: string): Promise<ObjectInfo | null> {
    const info = await this.retried((client) => client.headObject(container, name));
    return info && { size: info.size, etag: info.etag, contentType: info.contentType };
  }

  async listObjects(container: string, opts: { marker?: string } = {}): Promise<ListedObject[]> {
    const page = await this.retried((client) => client.listObjects(container, { marker: opts.marker })).catch((err: unknown) => {
      if (err instanceof ObjectStoreError && err.status === 404) return []; // no container yet: nothing in it
      throw err;
    });
    // Swift's last_modified is UTC without a zone
    return page.flatMap((e) => ('name' in e ? [{ name: e.name, lastModified: Date.parse(`${e.last_modified}Z`) }] : []));
  }

  private async client(renew: boolean): Promise<ObjectStoreClient> {
    const token = await this.session.token(renew);
    return new ObjectStoreClient(this.accountUrl ?? (await this.session.endpoint(this.endpoint)), token);
  }

  private async retried<T>(call: (client: ObjectStoreClient) => Promise<T>): Promise<T> {
    try {
      return await call(await this.client(false));
    } catch (err) {
      if (!isRefused(err)) throw err;
      return call(await this.client(true));
    }
  }
}

function isRefused(err: unknown): boolean {
  return err instanceof ObjectStoreError && err.status === 401;
}
