/**
 * The enabled stores of the image service, by id (Glance multi-store: `enabled_backends =
 * local:file, swift:swift` with `default_backend = local`). The API picks one per upload
 * from the request (the X-Image-Meta-Store header or the import call's `stores`) and finds
 * the store of an existing location here; the rules for choosing live in the API.
 */
import { StoreError } from './errors.ts';
import type { ImageStore } from './types.ts';

/** A store id that is not enabled (Glance answers 400 "store not found"). */
export class UnknownStore extends StoreError {
  readonly storeId: string;
  constructor(storeId: string) {
    super(`unknown store ${JSON.stringify(storeId)}`);
    this.name = 'UnknownStore';
    this.storeId = storeId;
  }
}

export class StoreRegistry {
  private readonly byId = new Map<string, ImageStore>();
  readonly default: ImageStore;

  constructor(stores: ImageStore[], defaultId: string) {
    for (const store of stores) {
      if (this.byId.has(store.id)) throw new StoreError(`store id ${JSON.stringify(store.id)} enabled twice`);
      this.byId.set(store.id, store);
    }
    this.default = this.get(defaultId);
  }

  /** The store with this id; UnknownStore when none is enabled under it. */
  get(id: string): ImageStore {
    const store = this.byId.get(id);
    if (!store) throw new UnknownStore(id);
    return store;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Every enabled store, in configuration order (the order /v2/info/stores lists them). */
  all(): ImageStore[] {
    return [...this.byId.values()];
  }

  /**
   * The store that holds `location`. Glance records the store id with each location, which
   * the API should prefer; this is for locations without it (older records).
   */
  forLocation(location: string): ImageStore {
    for (const store of this.byId.values()) if (store.ownsLocation(location)) return store;
    throw new StoreError(`no enabled store holds location ${location}`);
  }
}
