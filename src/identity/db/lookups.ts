// Row lookups by id or by name that several parts of identity need (auth, tokens, the API).
import type { IdentityDb } from './store.ts';
import { ROOT_DOMAIN_ID } from './schema.ts';

export const getDomainRow = (db: IdentityDb, id: string) =>
  db.selectFrom('project').selectAll().where('id', '=', id).where('is_domain', '=', 1).executeTakeFirst();

export const findDomainByName = (db: IdentityDb, name: string) =>
  db.selectFrom('project').selectAll().where('domain_id', '=', ROOT_DOMAIN_ID).where('name', '=', name).executeTakeFirst();

/** A project that is not a domain. */
export const getProjectRow = (db: IdentityDb, id: string) =>
  db.selectFrom('project').selectAll().where('id', '=', id).where('is_domain', '=', 0).executeTakeFirst();

export const findProjectByName = (db: IdentityDb, name: string, domainId: string) =>
  db.selectFrom('project').selectAll().where('domain_id', '=', domainId).where('name', '=', name).where('is_domain', '=', 0).executeTakeFirst();

export const getUserRow = (db: IdentityDb, id: string) =>
  db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();

export const findUserByName = (db: IdentityDb, name: string, domainId: string) =>
  db.selectFrom('user').selectAll().where('domain_id', '=', domainId).where('name', '=', name).executeTakeFirst();

export const getRoleRow = (db: IdentityDb, id: string) =>
  db.selectFrom('role').selectAll().where('id', '=', id).executeTakeFirst();

export const getGroupRow = (db: IdentityDb, id: string) =>
  db.selectFrom('user_group').selectAll().where('id', '=', id).executeTakeFirst();
