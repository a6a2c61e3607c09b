// The image database handle. Every change runs in a transaction (write), so an image and its
// properties, tags and locations are never half-written.
import type { Kysely, Transaction } from 'kysely';
import { openDatabase, migrateToLatest } from '../../core/db/index.ts';
import type { ImageDatabase } from './schema.ts';
import { imageMigrations } from './migrations.ts';

export type ImageDb = Kysely<ImageDatabase>;
export type ImageTx = Transaction<ImageDatabase>;

export class ImageData {
  constructor(readonly db: ImageDb) {}

  write<T>(change: (tx: ImageTx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(change);
  }
}

/** Opens and migrates the image database. */
export async function openImageData(url: string): Promise<{ data: ImageData; close: () => Promise<void> }> {
  const database = await openDatabase<ImageDatabase>(url);
  try {
    await migrateToLatest(database.db, 'image', imageMigrations);
  } catch (err) {
    await database.close();
    throw err;
  }
  return { data: new ImageData(database.db), close: database.close };
}
