// Segments in the object store that no image will ever read: what an upload or copy left when
// its process died between writing segments and writing the manifest (a failed transfer in a
// live process removes its own). Found once per process start, in the background: in the
// all-in-one the object store starts after the image service, so a failed try is repeated
// until it succeeds or the service stops.
//
// Only segments written before the cutoff are candidates (start-up minus the recovery age,
// as for the file store's temporary files), and only of images no transfer can be writing:
// not saving, uploading or importing, and not locked by a copy-image job.
import type { Logger } from 'pino';
import type { ImageDeps } from '../api/common.ts';
import { ObjectStorageStore } from '../store/object-store.ts';
import { IMPORT_TASK } from './import.ts';

const TRANSFERRING = ['saving', 'uploading', 'importing'];
const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

/** Whether no transfer of the image can still be writing segments. */
async function isIdle(deps: ImageDeps, imageId: string): Promise<boolean> {
  const db = deps.data.db;
  const row = await db.selectFrom('image').select('status').where('id', '=', imageId).executeTakeFirst();
  if (row && TRANSFERRING.includes(row.status)) return false;
  const lock = await db.selectFrom('image_property').select('value').where('image_id', '=', imageId).where('name', '=', IMPORT_TASK).executeTakeFirst();
  return !lock;
}

export interface OrphanSweep {
  /** settles when every store was swept, or the sweep was stopped */
  done: Promise<void>;
  /**
   * No further try starts. A try in progress is not waited for: it may be stuck on a
   * service that does not answer, and the process must still be able to stop; what it does
   * after the database closed fails and is ignored.
   */
  stop(): void;
}

/** Starts the sweep of every object-storage store in the background. */
export function startOrphanSweep(deps: ImageDeps, opts: { before: Date; logger: Logger }): OrphanSweep {
  const stores = deps.stores.all().filter((s): s is ObjectStorageStore => s instanceof ObjectStorageStore);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
      timer.unref();
    });

  const run = async () => {
    for (const store of stores) {
      for (let delay = FIRST_RETRY_MS; !stopped; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
        try {
          const removed = await store.sweepOrphanSegments(opts.before, (id) => isIdle(deps, id));
          if (removed.length > 0) opts.logger.info({ store: store.id, removed }, 'image: removed segments of interrupted transfers');
          break;
        } catch (err) {
          if (stopped) break;
          opts.logger.debug({ err, store: store.id }, 'image: orphan segment sweep will try again');
          await sleep(delay);
        }
      }
    }
  };
  return {
    done: stores.length > 0 ? run() : Promise.resolve(),
    stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
    },
  };
}
