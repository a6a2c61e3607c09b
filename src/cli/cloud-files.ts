// What the all-in-one writes so that clients find it: <state>/clouds.yaml and <state>/openrc
// (both 0600: they hold the admin password), and the same cloud merged into the user's
// clouds.yaml, so `openstack --os-cloud tenrec ...` works at once.
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isMap, parseDocument, stringify } from 'yaml';
import { existingMode, writeFileAtomic } from './files.ts';

export const CLOUD_NAME = 'tenrec';

export interface CloudAccess {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string;
}

/** The cloud's entry under `clouds:` (openstacksdk's format). */
export function cloudEntry(a: CloudAccess): Record<string, unknown> {
  return {
    auth: {
      auth_url: a.authUrl,
      username: a.username,
      password: a.password,
      project_name: a.projectName,
      user_domain_name: a.userDomainName,
      project_domain_name: a.projectDomainName,
    },
    region_name: a.regionName,
    interface: 'public',
    identity_api_version: 3,
  };
}

export function cloudsYaml(a: CloudAccess): string {
  return stringify({ clouds: { [CLOUD_NAME]: cloudEntry(a) } });
}

/** A shell word that stays one word whatever it holds. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function openrc(a: CloudAccess): string {
  const vars: [string, string][] = [
    ['OS_AUTH_URL', a.authUrl],
    ['OS_USERNAME', a.username],
    ['OS_PASSWORD', a.password],
    ['OS_PROJECT_NAME', a.projectName],
    ['OS_USER_DOMAIN_NAME', a.userDomainName],
    ['OS_PROJECT_DOMAIN_NAME', a.projectDomainName],
    ['OS_REGION_NAME', a.regionName],
    ['OS_IDENTITY_API_VERSION', '3'],
    ['OS_INTERFACE', 'public'],
  ];
  return ['# Tenrec all-in-one admin credentials: source this file.', ...vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`), ''].join('\n');
}

/** Writes <state>/clouds.yaml and <state>/openrc, mode 0600. */
export function writeStateCloudFiles(stateDir: string, a: CloudAccess): { cloudsYaml: string; openrc: string } {
  const paths = { cloudsYaml: join(stateDir, 'clouds.yaml'), openrc: join(stateDir, 'openrc') };
  writeFileAtomic(paths.cloudsYaml, cloudsYaml(a));
  writeFileAtomic(paths.openrc, openrc(a));
  return paths;
}

/** Where openstacksdk looks for the user's clouds.yaml ($XDG_CONFIG_HOME or ~/.config). */
export function userCloudsYamlPath(env: Record<string, string | undefined>): string {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(configHome, 'openstack', 'clouds.yaml');
}

export type MergeResult = { path: string; ok: true } | { path: string; ok: false; reason: string };

/**
 * Sets the `tenrec` cloud in the user's clouds.yaml, creating the file (0600) if absent and
 * keeping every other cloud, comment and the file's mode. A file that does not parse, or
 * whose `clouds` is not a mapping, is left alone.
 */
export function mergeUserClouds(env: Record<string, string | undefined>, a: CloudAccess): MergeResult {
  const path = userCloudsYamlPath(env);
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { path, ok: false, reason: (err as Error).message };
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { path, ok: false, reason: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  if (doc.contents !== null && !isMap(doc.contents)) return { path, ok: false, reason: 'its top level is not a mapping' };
  const clouds = doc.get('clouds');
  if (clouds !== undefined && clouds !== null && !isMap(clouds)) return { path, ok: false, reason: "its 'clouds' is not a mapping" };
  if (clouds === null) doc.delete('clouds'); // `clouds:` with nothing under it
  doc.setIn(['clouds', CLOUD_NAME], doc.createNode(cloudEntry(a)));
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    writeFileAtomic(path, doc.toString(), existingMode(path) ?? 0o600);
  } catch (err) {
    return { path, ok: false, reason: (err as Error).message };
  }
  return { path, ok: true };
}
