// Objects with X-Delete-At are queued for the expirer as Swift does: a task object named
// "<delete-at>-<account>/<container>/<object>" in a container of the .expiring_objects
// account, named after the day it expires in (less a per-object spread of up to 100 s so
// one day's tasks land in 100 containers). The proxy says where that container lives
// (X-Delete-At-Host/-Device/-Partition/-Container); a task that is no longer right
// (X-Delete-At changed or the object is gone) is removed through async_pending, which
// the updater delivers using the container ring.
import { normalizeDeleteAt } from '../../constraints.ts';

export const EXPIRER_ACCOUNT = '.expiring_objects';
export const EXPIRER_DIVISOR = 86_400;
export const EXPIRER_CONTAINERS_PER_DAY = 100;
/** Content-Type of queue entries; the object's size rides along as swift_expirer_bytes. */
export const EXPIRER_TASK_CONTENT_TYPE = 'text/plain';
/** MD5 of nothing: queue entries have no body. */
export const EMPTY_ETAG = 'd41d8cd98f00b204e9800998ecf8427e';

/** The queue container for an object expiring at `deleteAt` (Swift's get_expirer_container). */
export function expirerContainer(deleteAt: number, objectHash: string): string {
  const spread = Number(BigInt(`0x${objectHash}`) % BigInt(EXPIRER_CONTAINERS_PER_DAY));
  return normalizeDeleteAt(Math.floor(deleteAt / EXPIRER_DIVISOR) * EXPIRER_DIVISOR - spread);
}

/** "<10-digit delete-at>-<a>/<c>/<o>" */
export function expirerTaskName(deleteAt: number, account: string, container: string, object: string): string {
  return `${normalizeDeleteAt(deleteAt)}-${account}/${container}/${object}`;
}
