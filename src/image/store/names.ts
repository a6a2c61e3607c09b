import { StoreError } from './errors.ts';

// Image ids become file and object names, so they are held to a strict form: Glance's ids
// are UUIDs, and nothing here may contain a path separator, start with a dot (our
// temporary files do) or be empty.
const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

export function checkImageId(value: string): string {
  if (!isImageId(value)) throw new StoreError(`invalid image id ${JSON.stringify(value)}`);
  return value;
}
