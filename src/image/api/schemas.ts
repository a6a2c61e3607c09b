// The JSON schema documents Glance serves under /v2/schemas: the image (and image list) and
// the member (and member list). Clients depend on them: python-glanceclient validates what it
// sends against the image schema and reads which keys are core (`is_base: false` marks the
// properties that come from the operator's schema-image.json, not from the API itself), and
// the `links` tell it where self/file/schema are. The image schema is also what the API
// validates create and patch bodies against (image-rules.ts), so what clients are told and
// what the server enforces cannot drift apart.
import type { FastifyInstance } from 'fastify';
import type { ImageSettings } from '../image-settings.ts';
import type { ImageDeps } from './common.ts';

export type JsonSchema = Record<string, unknown>;

export const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

const IMAGE_STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'];

/** The attributes the image API itself defines (Glance's base properties), in Glance's order. */
export function baseImageProperties(settings: Pick<ImageSettings, 'diskFormats' | 'containerFormats'>): Record<string, JsonSchema> {
  return {
    id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
    status: { type: 'string', readOnly: true, description: 'Status of the image', enum: IMAGE_STATUSES },
    visibility: { type: 'string', description: 'Scope of image accessibility', enum: ['community', 'public', 'private', 'shared'] },
    protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
    os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
    checksum: { type: ['null', 'string'], readOnly: true, description: 'md5 hash of image contents.', maxLength: 32 },
    os_hash_algo: { type: ['null', 'string'], readOnly: true, description: 'Algorithm to calculate the os_hash_value', maxLength: 64 },
    os_hash_value: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
      maxLength: 128,
    },
    owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
    size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
    virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
    container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, ...settings.containerFormats] },
    disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...settings.diskFormats] },
    created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
    updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
    tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
    direct_url: { type: 'string', readOnly: true, description: 'URL to access the image file kept in external store' },
    min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
    min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
    self: { type: 'string', readOnly: true, description: 'An image self url' },
    file: { type: 'string', readOnly: true, description: 'An image file url' },
    stores: {
      type: 'string',
      readOnly: true,
      description: 'Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers.',
    },
    schema: { type: 'string', readOnly: true, description: 'An image schema url' },
    locations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', maxLength: 255 },
          metadata: { type: 'object' },
          validation_data: {
            description: "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
            type: 'object',
            writeOnly: true,
            additionalProperties: false,
            properties: {
              checksum: { type: 'string', minLength: 32, maxLength: 32 },
              os_hash_algo: { type: 'string', maxLength: 64 },
              os_hash_value: { type: 'string', maxLength: 128 },
            },
            required: ['os_hash_algo', 'os_hash_value'],
          },
        },
        required: ['url', 'metadata'],
      },
      description: 'A set of URLs to access the image file kept in external store',
    },
  };
}

/**
 * The well-known custom properties a stock Glance ships in schema-image.json (what devstack
 * and the distributions install). They are still custom properties — stored as such, and
 * removable — but typed, so e.g. kernel_id must be a UUID.
 */
export function schemaImageProperties(): Record<string, JsonSchema> {
  const imageRef = (what: string) => ({
    type: ['null', 'string'],
    pattern: UUID_PATTERN,
    description: `ID of image stored in Glance that should be used as the ${what} when booting an AMI-style image.`,
    is_base: false,
  });
  const keys = 'https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html';
  return {
    kernel_id: imageRef('kernel'),
    ramdisk_id: imageRef('ramdisk'),
    instance_uuid: {
      type: 'string',
      description: 'Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)',
      is_base: false,
    },
    architecture: { description: `Operating system architecture as specified in ${keys}`, type: 'string', is_base: false },
    os_distro: { description: `Common name of operating system distribution as specified in ${keys}`, type: 'string', is_base: false },
    os_version: { description: 'Operating system version as specified by the distributor.', type: 'string', is_base: false },
    description: { description: 'A human-readable string describing this image.', type: 'string', is_base: false },
    cinder_encryption_key_id: {
      description: 'Identifier in the OpenStack Key Management Service for the encryption key for the Block Storage Service to use when mounting a volume created from this image',
      type: 'string',
      is_base: false,
    },
    cinder_encryption_key_deletion_policy: {
      description: "States the condition under which the Image Service will delete the object associated with the 'cinder_encryption_key_id' image property.  If this property is missing, the Image Service will take no action",
      type: 'string',
      enum: ['on_image_deletion', 'do_not_delete'],
      is_base: false,
    },
  };
}

/** GET /v2/schemas/image: a permissive schema — any further key is a string custom property. */
export function imageSchema(settings: Pick<ImageSettings, 'diskFormats' | 'containerFormats'>): JsonSchema {
  return {
    name: 'image',
    properties: { ...baseImageProperties(settings), ...schemaImageProperties() },
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

/** A collection schema around an item schema, as Glance builds /v2/schemas/images. */
function collectionSchema(name: string, item: JsonSchema): JsonSchema {
  return {
    name,
    properties: {
      [name]: { type: 'array', items: item },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function imagesSchema(settings: Pick<ImageSettings, 'diskFormats' | 'containerFormats'>): JsonSchema {
  return collectionSchema('images', imageSchema(settings));
}

function memberProperties(): Record<string, JsonSchema> {
  return {
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    image_id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
    status: { type: 'string', description: 'The status of this image member', enum: ['pending', 'accepted', 'rejected'] },
    schema: { readOnly: true, type: 'string' },
  };
}

/** GET /v2/schemas/member: Glance serves the member schemas in their minimal form (no links). */
export function memberSchema(): JsonSchema {
  return { name: 'member', properties: memberProperties() };
}

export function membersSchema(): JsonSchema {
  return {
    name: 'members',
    properties: {
      members: { type: 'array', items: memberSchema() },
      schema: { type: 'string' },
    },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}

export function registerSchemas(app: FastifyInstance, deps: ImageDeps): void {
  // Built once: the formats are fixed at start.
  const image = imageSchema(deps.settings);
  const images = imagesSchema(deps.settings);
  const member = memberSchema();
  const members = membersSchema();
  app.get('/v2/schemas/image', async () => image);
  app.get('/v2/schemas/images', async () => images);
  app.get('/v2/schemas/member', async () => member);
  app.get('/v2/schemas/members', async () => members);
}
