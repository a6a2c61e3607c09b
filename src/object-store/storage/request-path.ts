// Backend paths: /<device>/<partition>/<account>[/<container>[/<object>]], the object keeping
// its slashes, split as Swift's split_path does (a trailing slash after the last required
// part is allowed; an empty part in the middle is not).
import { fail } from './responses.ts';

export interface StoragePath {
  device: string;
  partition: string;
  account?: string;
  container?: string;
  object?: string;
}

/** Splits a decoded backend path; a malformed one is a 400 (HttpError). */
export function parseStoragePath(path: string): StoragePath {
  if (!path.startsWith('/')) fail(400, `Invalid path: ${encodeURI(path)}`);
  const parts = path.slice(1).split('/');
  const [device = '', partition = '', account, container] = parts;
  const object = parts.length > 4 ? parts.slice(4).join('/') : undefined;
  const invalid = () => fail(400, `Invalid path: ${encodeURI(path)}`);
  if (!device || (parts.length > 2 && !partition)) invalid();
  if (account === '' && (container !== undefined || object !== undefined)) invalid();
  if (container === '' && object !== undefined && object !== '') invalid();
  validateDevicePartition(device, partition);
  return {
    device,
    partition,
    account: account || undefined,
    container: container || undefined,
    object: object || undefined,
  };
}

/**
 * Swift refuses devices and partitions that could walk out of the device directory; we also
 * want partitions to be numbers, since every writer (and the replicator) computes them from the ring.
 */
export function validateDevicePartition(device: string, partition: string): void {
  if (!device || device === '.' || device === '..') fail(400, `Invalid device: ${encodeURIComponent(device)}`);
  if (!/^\d+$/.test(partition)) fail(400, `Invalid partition: ${encodeURIComponent(partition)}`);
}

/** /<device>/<partition>/<a>/<c>/<o> with each part %-escaped and the object's slashes kept, for requests we send. */
export function backendPath(device: string, partition: string | number, account: string, container?: string, object?: string): string {
  let path = `/${encodeURIComponent(device)}/${partition}/${encodeURIComponent(account)}`;
  if (container !== undefined) path += `/${encodeURIComponent(container)}`;
  if (object !== undefined) path += `/${object.split('/').map(encodeURIComponent).join('/')}`;
  return path;
}

/**
 * Names the server a request is for when one process serves accounts, containers and
 * objects: "account", "container" or "object". Storage servers set it on the updates they
 * send one level up (an object server's PUT /d/p/a/c/o to a container server looks like an
 * object PUT otherwise). Without it the path's depth decides.
 */
export const SERVER_TYPE_HEADER = 'x-backend-server-type';
