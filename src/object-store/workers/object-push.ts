// Brings one object on one remote node up to what this node has, over the plain storage
// protocol (Swift's ssync, without its own verbs): a HEAD says what the remote holds, then only
// what it lacks goes — the .data as a PUT, the .meta as a POST, a tombstone as a DELETE — each
// with the original X-Timestamp and metadata, so newest-wins makes a repeat harmless. They are
// marked X-Backend-Replication and name no container server, so no listing update and no
// expirer entry is sent: the copy is of a write that already made those.
import { open } from 'node:fs/promises';
import { discardResponse, finishUpload, nodeName, openUpload, writeChunk, type Upload } from '../proxy/backend.ts';
import type { RingDevice } from '../ring/types.ts';
import { quarantineFile } from '../storage/quarantine.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { splitObjectName, type LocalObject, type LocalObjectFile } from './local-object.ts';
import { DeviceUnavailable, type PeerClient } from './peer-client.ts';

/** What the remote holds of the object, by timestamp. */
interface RemoteState {
  data?: Timestamp;
  /** the newest .meta's, when newer than the data */
  meta?: Timestamp;
  tombstone?: Timestamp;
}

/** Metadata keys the PUT or POST carries in its own way, not as stored headers. */
const CARRIED_APART = new Set(['name', 'x-timestamp', 'content-length', 'etag', 'content-type', 'content-type-timestamp', 'deleted']);

function objectPath(obj: LocalObject): string {
  const name = splitObjectName(obj.name)!;
  return `/${name.account}/${name.container}/${name.object}`;
}

/** The stored metadata as request headers, each also named in X-Backend-Replication-Headers so the remote keeps it whatever it is. */
function metadataHeaders(metadata: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (!CARRIED_APART.has(key)) headers[key] = value;
  const names = Object.keys(headers);
  if (names.length) headers['x-backend-replication-headers'] = names.join(' ');
  return headers;
}

export class ObjectPusher {
  constructor(private readonly peers: PeerClient) {}

  /** True when the remote holds the object at least as new as we do afterwards (nothing left to send). */
  async push(node: RingDevice, partition: number, obj: LocalObject): Promise<boolean> {
    const path = objectPath(obj);
    const remote = await this.remoteState(node, partition, path);
    if (!remote) return false;
    if (obj.tombstone) {
      const newest = [remote.data, remote.tombstone].filter((t): t is Timestamp => t !== undefined);
      if (newest.some((t) => t.compare(obj.tombstone!.timestamp) >= 0)) return true;
      return this.send(node, partition, 'DELETE', path, { 'x-timestamp': obj.tombstone.timestamp.internal }, [200, 201, 204, 404, 409]);
    }
    const data = obj.data;
    if (!data) return true;
    // The remote deleted it after our write: it is behind nothing, and will push its tombstone to us.
    if (remote.tombstone && remote.tombstone.compare(data.timestamp) >= 0) return true;
    if (!remote.data || remote.data.compare(data.timestamp) < 0) {
      if (!(await this.putData(node, partition, path, obj, data))) return false;
      remote.data = data.timestamp;
      if (remote.meta && remote.meta.compare(data.timestamp) <= 0) remote.meta = undefined;
    }
    const meta = obj.meta;
    const remoteMeta = remote.meta ?? remote.data;
    if (meta && remoteMeta.compare(meta.timestamp) < 0) {
      const headers: Record<string, string> = { ...metadataHeaders(meta.metadata), 'x-timestamp': meta.timestamp.internal, 'x-backend-open-expired': 'true' };
      if (meta.metadata['content-type'] !== undefined) {
        headers['content-type'] = meta.metadata['content-type'];
        headers['content-type-timestamp'] = meta.metadata['content-type-timestamp'] ?? meta.timestamp.internal;
      }
      return this.send(node, partition, 'POST', path, headers, [202, 409]);
    }
    return true;
  }

  /** HEAD of the object on the remote; undefined when it cannot say (then nothing is sent this pass). */
  private async remoteState(node: RingDevice, partition: number, path: string): Promise<RemoteState | undefined> {
    const headers = { 'x-backend-replication': 'true', 'x-backend-open-expired': 'true' };
    const res = await this.peers.request(node, partition, 'HEAD', path, { headers });
    if (!res) return undefined;
    const ts = (name: string) => {
      const t = Timestamp.tryParse(res.headers[name]);
      return t?.isSet ? t : undefined;
    };
    if (res.status === 200) {
      const data = ts('x-backend-data-timestamp') ?? ts('x-backend-timestamp');
      const newest = ts('x-backend-timestamp');
      return { data, meta: data && newest?.newerThan(data) ? newest : undefined };
    }
    if (res.status === 404) return { tombstone: ts('x-backend-timestamp') };
    this.peers.logger.warn({ node: nodeName(node), status: res.status, path }, 'replication: unexpected answer to HEAD');
    return undefined;
  }

  /** PUT of the .data, streamed from the file. A 422 means our bytes do not match their ETag: that copy is quarantined. */
  private async putData(node: RingDevice, partition: number, path: string, obj: LocalObject, data: LocalObjectFile): Promise<boolean> {
    const headers: Record<string, string> = {
      ...metadataHeaders(data.metadata),
      'x-timestamp': data.timestamp.internal,
      'content-type': data.metadata['content-type'] ?? 'application/octet-stream',
      'content-length': String(data.dataLength),
      etag: data.metadata.etag ?? '',
      'x-backend-replication': 'true',
    };
    if (!headers.etag) delete headers.etag;
    let handle;
    try {
      handle = await open(data.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // replaced meanwhile: next pass
      throw err;
    }
    let status: number;
    let upload: Upload | undefined;
    try {
      upload = await openUpload(this.peers.backend, node, partition, path, { ...headers, 'user-agent': `${this.peers.agent} ${process.pid}` });
      if (upload.early) {
        status = upload.early.status;
        discardResponse(upload.early);
        upload.req.destroy();
      } else {
        if (data.dataLength > 0) {
          for await (const chunk of handle.createReadStream({ start: 0, end: data.dataLength - 1, autoClose: false })) {
            await writeChunk(this.peers.backend, upload, chunk as Buffer);
          }
        }
        const res = await finishUpload(this.peers.backend, upload);
        status = res.status;
        discardResponse(res);
      }
    } catch (err) {
      upload?.req.destroy();
      this.peers.logger.warn({ node: nodeName(node), err: (err as Error).message, path }, 'replication: PUT failed');
      return false;
    } finally {
      await handle.close();
    }
    if (status === 507) throw new DeviceUnavailable(node.device);
    if (status === 422) {
      const moved = await quarantineFile(obj.devicePath, 'objects', obj.dir.hash, data.path).catch(() => undefined);
      this.peers.logger.error({ file: data.path, quarantined: moved }, 'replication: our copy does not match its ETag; quarantined');
      return false;
    }
    return status === 201 || status === 409;
  }

  private async send(node: RingDevice, partition: number, method: string, path: string, headers: Record<string, string>, accepted: number[]): Promise<boolean> {
    const res = await this.peers.request(node, partition, method, path, { headers: { ...headers, 'x-backend-replication': 'true' } });
    if (!res) return false;
    if (accepted.includes(res.status)) return true;
    this.peers.logger.warn({ node: nodeName(node), status: res.status, method, path, body: res.body.toString('utf8').slice(0, 200) }, 'replication: request refused');
    return false;
  }
}
