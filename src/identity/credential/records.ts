// Stored credentials, read and written in clear by the credentials API, the OS-EC2 API and
// ec2tokens/s3tokens alike (they share the rows, as in Keystone). A credential of type ec2
// holds a JSON blob {access, secret, ...} and is found by the SHA-256 of its access key.
import { createHash } from 'node:crypto';
import { badRequest } from '../../core/http/index.ts';
import type { CredentialTable } from '../db/schema.ts';
import type { IdentityDb, IdentityTx } from '../db/store.ts';
import type { CredentialCipher } from './cipher.ts';

export const EC2 = 'ec2';

/** A credential with its blob in clear. */
export interface Credential {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  /** attributes a client sent that have no column of their own */
  extra: Record<string, unknown>;
}

/** What an ec2 blob holds; the *_id fields bind tokens made from it to a delegation. */
export interface Ec2Blob {
  access: string;
  secret?: unknown;
  trust_id?: unknown;
  app_cred_id?: unknown;
  access_token_id?: unknown;
  [key: string]: unknown;
}

/** Keystone's id of an ec2 credential: the hex SHA-256 of its access key. */
export const ec2CredentialId = (access: string): string => createHash('sha256').update(access, 'utf8').digest('hex');

/** Keystone compares types without case when deciding what is an ec2 credential. */
export const isEc2 = (type: string | undefined): boolean => (type ?? '').toLowerCase() === EC2;

/** The blob of an ec2 credential: a JSON object with an access key; 400 otherwise (Keystone's wording). */
export function parseEc2Blob(blob: unknown): Ec2Blob {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(blob));
  } catch {
    throw badRequest('Invalid blob in credential');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.keys(parsed).length) {
    throw badRequest('Expecting to find blob in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  const access = (parsed as Record<string, unknown>).access;
  if (access === undefined || access === null) {
    throw badRequest('Expecting to find access in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  return { ...(parsed as Record<string, unknown>), access: String(access) };
}

/** A stored ec2 blob, or undefined when it is not one (a credential of another kind turned ec2). */
export function readEc2Blob(blob: string): Ec2Blob | undefined {
  try {
    return parseEc2Blob(blob);
  } catch {
    return undefined;
  }
}

export function openRow(cipher: CredentialCipher, row: CredentialTable): Credential {
  return {
    id: row.id,
    user_id: row.user_id,
    project_id: row.project_id,
    type: row.type,
    blob: cipher.decrypt(row.encrypted_blob),
    extra: JSON.parse(row.extra) as Record<string, unknown>,
  };
}

export const getCredentialRow = (db: IdentityDb, id: string) =>
  db.selectFrom('credential').selectAll().where('id', '=', id).executeTakeFirst();

export async function insertCredential(tx: IdentityTx, cipher: CredentialCipher, c: Credential): Promise<void> {
  const { encryptedBlob, keyHash } = cipher.encrypt(c.blob);
  await tx.insertInto('credential').values({
    id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type,
    encrypted_blob: encryptedBlob, key_hash: keyHash, extra: JSON.stringify(c.extra),
  }).execute();
}

/** Rewrites a credential whole (the blob encrypted again under the current primary key). */
export async function updateCredential(tx: IdentityTx, cipher: CredentialCipher, c: Credential): Promise<void> {
  const { encryptedBlob, keyHash } = cipher.encrypt(c.blob);
  await tx.updateTable('credential').set({
    user_id: c.user_id, project_id: c.project_id, type: c.type,
    encrypted_blob: encryptedBlob, key_hash: keyHash, extra: JSON.stringify(c.extra),
  }).where('id', '=', c.id).execute();
}

/** What goes when a user or a project goes (Keystone's callbacks do the same). */
export async function deleteCredentialsOf(tx: IdentityTx, owner: { userId: string } | { projectId: string }): Promise<void> {
  if ('userId' in owner) await tx.deleteFrom('credential').where('user_id', '=', owner.userId).execute();
  else await tx.deleteFrom('credential').where('project_id', '=', owner.projectId).execute();
}
