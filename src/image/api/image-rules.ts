// The rules every image handler applies, in one place: which attributes a client may set
// (Glance's read-only, reserved and disallowed lists), validation against the image schema
// with jsonschema-style messages, the tag and property limits, and how an image is found and
// authorized (an image the caller may not see is a 404; one it sees but may not change, a
// 403 — Glance's ImageAPIPolicy).
import { HttpError, badRequest, forbidden, notFound } from '../../core/http/index.ts';
import { nowIso } from '../../core/db/index.ts';
import { policyCredentials, type RequestContext } from '../../core/auth/index.ts';
import { canSee, loadImage, type FullImage } from '../db/images.ts';
import type { ImageDb, ImageTx } from '../db/database.ts';
import type { ImageSettings } from '../image-settings.ts';
import type { ImageDeps } from './common.ts';
import { imageSchema, type JsonSchema } from './schemas.ts';

// ---- limits ----

/** Glance's image_tag_quota and image_property_quota defaults (negative would mean unlimited). */
export const IMAGE_TAG_QUOTA = 128;
export const IMAGE_PROPERTY_QUOTA = 128;
/** min_disk and min_ram are 32-bit columns (Glance's validate_mysql_int). */
export const MAX_DB_INT = 2147483647;
/** The width of the image.owner column. */
export const MAX_OWNER_LENGTH = 64;
/** A property value is a TEXT column; MySQL's holds 65535 bytes. */
export const MAX_PROPERTY_VALUE_BYTES = 65535;
export const MAX_PROPERTY_NAME_LENGTH = 255;
export const MAX_TAG_LENGTH = 255;

// ---- which attributes a client may touch ----

/** Properties in this namespace belong to Glance itself (import bookkeeping): never set by clients. */
export const RESERVED_NAMESPACE = 'os_glance';
/** Rejected in a create body before anything else (403 read-only). */
export const CREATE_DISALLOWED = ['direct_url', 'self', 'file', 'schema', 'stores'];
/** Set by the service only: 403 read-only in a create body. */
export const CREATE_READ_ONLY = ['created_at', 'updated_at', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size'];
/** Read-only for PATCH. `stores` is here too: Glance lets it through to become a custom property that would shadow the real one. */
export const PATCH_READ_ONLY = [
  'created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'direct_url', 'self', 'file', 'schema', 'id',
  'os_hash_algo', 'os_hash_value', 'stores',
];
/** Names no custom property may have (403 reserved). */
export const RESERVED_NAMES = ['location', 'deleted', 'deleted_at'];
/** The attributes a PATCH sets on the image itself; any other path is a custom property. */
export const PATCHABLE_CORE = ['name', 'visibility', 'protected', 'os_hidden', 'owner', 'min_disk', 'min_ram', 'disk_format', 'container_format', 'tags'] as const;
export type PatchableCore = (typeof PATCHABLE_CORE)[number];

export const isReservedName = (key: string) => RESERVED_NAMES.includes(key) || key.startsWith(RESERVED_NAMESPACE);
export const readOnly = (key: string) => forbidden(`Attribute '${key}' is read-only.`);
export const reserved = (key: string) => forbidden(`Attribute '${key}' is reserved.`);

// ---- Python-style rendering, for messages worded as Glance's (jsonschema) ----

/** The value as Python's repr() shows the decoded JSON (None, True, 'text', [1, 2], {'a': 1}). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    let out = '';
    for (const ch of value) {
      if (ch === '\\') out += '\\\\';
      else if (ch === quote) out += `\\${quote}`;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (ch.codePointAt(0)! < 0x20 || ch.codePointAt(0) === 0x7f) out += `\\x${ch.codePointAt(0)!.toString(16).padStart(2, '0')}`;
      else out += ch;
    }
    return `${quote}${out}${quote}`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** Characters as Python (and the databases) count them: code points, not UTF-16 units. */
export const charLength = (s: string) => [...s].length;
/** PostgreSQL cannot store NUL in text; no database we use should be handed one. */
export const hasNul = (s: string) => s.includes('\u0000');

// ---- a small JSON-schema validator, for the subset Glance's schemas use ----

interface Violation {
  message: string;
  validator: string;
  schemaPath: string;
  instancePath: string;
  instance: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'null':
      return v === null;
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isObject(v);
    default:
      return true;
  }
}

const seg = (key: string | number) => `[${pyRepr(key)}]`;

function violation(schema: JsonSchema, v: unknown, schemaPath: string, instancePath: string): Violation | undefined {
  const fail = (validator: string, message: string): Violation => ({ message, validator, schemaPath, instancePath, instance: v });
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, v))) return fail('type', `${pyRepr(v)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === v)) return fail('enum', `${pyRepr(v)} is not one of ${pyRepr(schema.enum)}`);
  if (typeof v === 'string') {
    if (typeof schema.maxLength === 'number' && charLength(v) > schema.maxLength) return fail('maxLength', `${pyRepr(v)} is too long`);
    if (typeof schema.minLength === 'number' && charLength(v) < schema.minLength) return fail('minLength', `${pyRepr(v)} is too short`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v)) {
      return fail('pattern', `${pyRepr(v)} does not match ${pyRepr(schema.pattern)}`);
    }
  }
  if (Array.isArray(v) && isObject(schema.items)) {
    for (let i = 0; i < v.length; i++) {
      const found = violation(schema.items, v[i], `${schemaPath}['items']`, `${instancePath}${seg(i)}`);
      if (found) return found;
    }
  }
  if (isObject(v)) {
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in v)) return fail('required', `${pyRepr(name)} is a required property`);
    }
    const extra: string[] = [];
    for (const [key, item] of Object.entries(v)) {
      const sub = props[key];
      if (sub) {
        const found = violation(sub, item, `${schemaPath}['properties']${seg(key)}`, `${instancePath}${seg(key)}`);
        if (found) return found;
      } else if (isObject(schema.additionalProperties)) {
        const found = violation(schema.additionalProperties, item, `${schemaPath}['additionalProperties']`, `${instancePath}${seg(key)}`);
        if (found) return found;
      } else if (schema.additionalProperties === false) {
        extra.push(key);
      }
    }
    if (extra.length) {
      return fail('additionalProperties', `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
    }
  }
  return undefined;
}

/** Glance's InvalidObject: "Provided object does not match schema 'image': <jsonschema's reason>". */
export function validateSchema(name: string, schema: JsonSchema, value: unknown): void {
  const found = violation(schema, value, 'schema', 'instance');
  if (!found) return;
  const where = found.instancePath === 'instance' ? 'On instance' : `On ${found.instancePath}`;
  throw badRequest(
    `Provided object does not match schema '${name}': ${found.message}\n\n` +
      `Failed validating '${found.validator}' in ${found.schemaPath}\n\n${where}:\n    ${pyRepr(found.instance)}`,
  );
}

const schemaCache = new WeakMap<ImageSettings, JsonSchema>();
/** The image schema for these settings (built once per settings object). */
export function imageSchemaFor(settings: ImageSettings): JsonSchema {
  let schema = schemaCache.get(settings);
  if (!schema) schemaCache.set(settings, (schema = imageSchema(settings)));
  return schema;
}

export const validateImage = (settings: ImageSettings, value: unknown) => validateSchema('image', imageSchemaFor(settings), value);

// ---- checks the schema cannot express, but the database needs ----

/** min_disk / min_ram: not negative (Glance's domain) and within the 32-bit column. */
export function checkMinimum(param: 'min_disk' | 'min_ram', value: number): void {
  if (value < 0) throw badRequest(`Invalid value '${value}' for parameter '${param}': Cannot be a negative value`);
  if (value > MAX_DB_INT) throw badRequest(`'${param}' value out of range, must not exceed ${MAX_DB_INT}.`);
}

export function checkOwner(owner: string | null): void {
  if (owner === null) return;
  if (hasNul(owner)) throw badRequest('Owner must not contain NUL characters.');
  if (charLength(owner) > MAX_OWNER_LENGTH) throw badRequest(`Owner '${owner}' is too long: it must be at most ${MAX_OWNER_LENGTH} characters.`);
}

export function checkName(name: string | null): void {
  if (name !== null && hasNul(name)) throw badRequest('Image name must not contain NUL characters.');
}

/** A custom property's name and value, beyond the schema (length, NUL, reserved names). */
export function checkPropertyName(key: string): void {
  if (charLength(key) > MAX_PROPERTY_NAME_LENGTH) throw badRequest('Custom property should not be greater than 255 characters.');
  if (hasNul(key)) throw badRequest('Custom property names must not contain NUL characters.');
  if (isReservedName(key)) throw reserved(key);
}

export function checkPropertyValue(key: string, value: string): void {
  if (hasNul(value)) throw badRequest(`The value of property '${key}' must not contain NUL characters.`);
  if (Buffer.byteLength(value, 'utf8') > MAX_PROPERTY_VALUE_BYTES) {
    throw badRequest(`The value of property '${key}' is too long: it must be at most ${MAX_PROPERTY_VALUE_BYTES} bytes.`);
  }
}

/** The image schema's rule for one tag: a string of at most 255 characters. */
const TAG_SCHEMA: JsonSchema = { properties: { tags: { type: 'array', items: { type: 'string', maxLength: MAX_TAG_LENGTH } } } };

/** A tag, as Glance checks one: against the image schema's tags (400), and no NUL. */
export function checkTag(tag: string): void {
  validateSchema('image', TAG_SCHEMA, { tags: [tag] });
  if (hasNul(tag)) throw badRequest('Tags must not contain NUL characters.');
}

export function tagLimitError(attempted: number): HttpError {
  return new HttpError(413, `The limit has been exceeded on the number of allowed image tags. Attempted: ${attempted}, Maximum: ${IMAGE_TAG_QUOTA}`);
}

export function checkTagQuota(tags: string[]): void {
  if (IMAGE_TAG_QUOTA >= 0 && tags.length > IMAGE_TAG_QUOTA) throw tagLimitError(tags.length);
}

/** Glance counts every custom property except its own os_glance_* bookkeeping. */
export function checkPropertyQuota(properties: Record<string, string>): void {
  if (IMAGE_PROPERTY_QUOTA < 0) return;
  const attempted = Object.keys(properties).filter((k) => !k.startsWith(RESERVED_NAMESPACE)).length;
  if (attempted > IMAGE_PROPERTY_QUOTA) {
    throw new HttpError(413, `The limit has been exceeded on the number of allowed image properties. Attempted: ${attempted}, Maximum: ${IMAGE_PROPERTY_QUOTA}`);
  }
}

/** Tags as a set: duplicates dropped, first occurrence kept. */
export const uniqueTags = (tags: string[]) => [...new Set(tags)];

// ---- finding and authorizing an image ----

/** The policy target of an image, as Glance's ImageTarget: owner as project_id, the caller's membership as member_id. */
export function imageTarget(ctx: RequestContext, image: FullImage): Record<string, unknown> {
  return {
    ...image.properties,
    id: image.row.id,
    project_id: image.row.owner,
    owner: image.row.owner,
    member_id: image.membership !== undefined ? ctx.projectId : undefined,
    visibility: image.row.visibility,
    status: image.row.status,
  };
}

const NOT_FOUND = 'The resource could not be found.';

/**
 * Enforces `rule` on an image the caller can see. Denied: a 404 when the caller may not even
 * get the image (so its existence stays private), else a 403.
 */
export function enforceOnImage(ctx: RequestContext, deps: ImageDeps, rule: string, image: FullImage): void {
  const creds = policyCredentials(ctx);
  const target = imageTarget(ctx, image);
  if (deps.policy.check(rule, target, creds)) return;
  if (rule === 'get_image' || !deps.policy.check('get_image', target, creds)) throw notFound(NOT_FOUND);
  throw forbidden(`You are not authorized to complete ${rule} action.`);
}

/** Checks a rule that is not about one existing image (create, list); 403 when denied. */
export function enforceRule(ctx: RequestContext, deps: ImageDeps, rule: string, target: Record<string, unknown>): void {
  if (!deps.policy.check(rule, target, policyCredentials(ctx))) throw forbidden(`You are not authorized to complete ${rule} action.`);
}

/**
 * The image by id when the caller may see it and get it; `missing` words the 404. Reads
 * through `db`, which may be a transaction.
 */
export async function findImage(db: ImageDb | ImageTx, ctx: RequestContext, deps: ImageDeps, id: string, missing: string): Promise<FullImage> {
  if (hasNul(id)) throw notFound(missing);
  const image = await loadImage(db, id, ctx.projectId);
  if (!image || image.row.status === 'deleted' || !canSee(ctx, image)) throw notFound(missing);
  enforceOnImage(ctx, deps, 'get_image', image);
  return image;
}

/**
 * Inside a write: takes the image row's lock first (an UPDATE that changes nothing locks the
 * row on PostgreSQL and MySQL; SQLite serializes writers anyway), then reads the image, so a
 * read-modify-write cannot lose a concurrent change.
 */
export async function lockImage(tx: ImageTx, ctx: RequestContext, deps: ImageDeps, id: string, missing: string): Promise<FullImage> {
  if (hasNul(id)) throw notFound(missing);
  await tx.updateTable('image').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).execute();
  return findImage(tx, ctx, deps, id, missing);
}

/** Marks the image changed now. */
export async function touchImage(tx: ImageTx, id: string): Promise<void> {
  await tx.updateTable('image').set({ updated_at: nowIso() }).where('id', '=', id).execute();
}

/**
 * Adds tags the image does not have yet. Whether it has one is asked of the database, whose
 * collation decides (on MySQL 'Linux' and 'linux' are the same tag), so an insert never
 * collides with an existing row.
 */
export async function addTags(tx: ImageTx, imageId: string, tags: string[]): Promise<void> {
  for (const value of uniqueTags(tags)) {
    const found = await tx.selectFrom('image_tag').select('value').where('image_id', '=', imageId).where('value', '=', value).executeTakeFirst();
    if (!found) await tx.insertInto('image_tag').values({ image_id: imageId, value }).execute();
  }
}
