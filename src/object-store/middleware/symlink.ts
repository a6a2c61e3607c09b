// Symlinks (Swift's symlink middleware): a zero-byte object PUT with X-Symlink-Target:
// <container>/<object> (and X-Symlink-Target-Account for another account) stands for its
// target. A GET or HEAD follows it (up to symloop_max links in a row) and says where it led in
// Content-Location; ?symlink=get reads the link itself. With X-Symlink-Target-Etag the link is
// static: the target must exist and keep that ETag. A POST to a link is applied to the link and
// answered 307 with the target's Location. The target is kept in object sysmeta, and in the
// container listing as parameters of the row's hash, which JSON listings show as symlink_path
// (and symlink_etag, symlink_bytes).
import type { Capabilities } from '../capabilities.ts';
import { parseSwiftPath, type SwiftPath } from '../path.ts';
import { discardBody, subrequest, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess, ResponseError } from '../proxy/responses.ts';
import { isTrue } from '../storage/header-families.ts';
import { unquoteEtag } from '../storage/object/conditional.ts';
import { IGNORE_RANGE, withHint } from './backend-hints.ts';
import { joinHash, rewriteListing, splitHash } from './listing-rows.ts';
import { quote, unquote } from './quote.ts';
import { bodyResponse, errorPage, plainResponse } from './responses.ts';

const SOURCE = 'SYM';
const TARGET = 'x-symlink-target';
const TARGET_ACCOUNT = 'x-symlink-target-account';
const TARGET_ETAG = 'x-symlink-target-etag';
const TARGET_BYTES = 'x-symlink-target-bytes';
const SYSMETA_TARGET = 'x-object-sysmeta-symlink-target';
const SYSMETA_ACCOUNT = 'x-object-sysmeta-symlink-target-account';
const SYSMETA_ETAG = 'x-object-sysmeta-symlink-target-etag';
const SYSMETA_BYTES = 'x-object-sysmeta-symlink-target-bytes';
/** set by a middleware whose own links should not count against symloop_max */
const SYSMETA_SYMLOOP_EXTEND = 'x-object-sysmeta-symloop-extend';
const OVERRIDE_ETAG = 'x-backend-container-update-override-etag';
const MD5_OF_EMPTY = 'd41d8cd98f00b204e9800998ecf8427e';
/** client header ↔ sysmeta, as a ?symlink=get shows them */
const SHOWN: [string, string][] = [
  [TARGET, SYSMETA_TARGET],
  [TARGET_ACCOUNT, SYSMETA_ACCOUNT],
  [TARGET_ETAG, SYSMETA_ETAG],
  [TARGET_BYTES, SYSMETA_BYTES],
];

export interface SymlinkOptions {
  /** links followed in a row before a GET gives up with 409 (Swift's symloop_max, default 2) */
  symloopMax?: number;
  capabilities?: Capabilities;
}

export function symlink(opts: SymlinkOptions = {}): Middleware {
  const symloopMax = opts.symloopMax !== undefined && opts.symloopMax >= 1 ? opts.symloopMax : 2;
  opts.capabilities?.register('symlink', { symloop_max: symloopMax, static_links: true });
  return (next) => async (req) => {
    const path = parseSwiftPath(req.path);
    if (!path?.container) return next(req);
    try {
      if (!path.object) return req.method === 'GET' ? withSymlinkPaths(await next(req), path) : await next(req);
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (req.query.get('symlink') === 'get') return showLink(await next(req));
        return await new Traversal(req, next, symloopMax).follow();
      }
      if (req.method === 'PUT' && req.headers[TARGET] !== undefined) return await putLink(req, next, path, symloopMax);
      if (req.method === 'POST') return await postToLink(req, next, path);
      return await next(req);
    } catch (err) {
      if (err instanceof ResponseError) return err.response;
      throw err;
    }
  };
}

/** ?symlink=get: the link itself, its target shown under the client's header names. */
function showLink(res: SwiftResponse): SwiftResponse {
  const headers = { ...res.headers };
  for (const [shown, stored] of SHOWN) {
    if (headers[stored] === undefined) continue;
    headers[shown] = headers[stored]!;
    delete headers[stored];
  }
  return { ...res, headers };
}

/** JSON listings show a link's target as symlink_path (static links: symlink_etag, symlink_bytes). */
function withSymlinkPaths(res: SwiftResponse, path: SwiftPath): Promise<SwiftResponse> {
  return rewriteListing(res, (row) => {
    const { etag, params } = splitHash(row.hash as string);
    let target: string | undefined;
    let account = path.account;
    const kept: [string, string][] = [];
    for (const [key, value] of params) {
      if (key === 'symlink_target') target = value;
      else if (key === 'symlink_target_account') account = value;
      else if (key === 'symlink_target_etag') row.symlink_etag = value;
      else if (key === 'symlink_target_bytes') row.symlink_bytes = Number(value);
      else kept.push([key, value]);
    }
    row.hash = joinHash(etag, kept);
    if (target) row.symlink_path = `/${path.version}/${account}/${target}`;
  });
}

/** Follows links from a GET or HEAD to what they lead to, counting them. */
class Traversal {
  #links = 0;
  /** the last target followed, %-quoted as it was stored (Content-Location) */
  lastTarget: string | undefined;

  constructor(
    readonly req: SwiftRequest,
    readonly next: Handler,
    readonly symloopMax: number,
  ) {}

  /** The client's GET/HEAD, following dynamic and static links. */
  async follow(): Promise<SwiftResponse> {
    // a link's own (empty) body is never ranged
    return this.step({ ...this.req, headers: withHint(this.req.headers, IGNORE_RANGE, SYSMETA_TARGET) }, undefined, true);
  }

  /**
   * One hop: answer `req`; if that is a link to follow, go on to its target. `targetEtag` is
   * the ETag the previous (static) link promised; `followDynamic` false stops at dynamic links.
   */
  async step(req: SwiftRequest, targetEtag: string | undefined, followDynamic: boolean): Promise<SwiftResponse> {
    const res = await this.next(req);
    const target = res.headers[SYSMETA_TARGET];
    const linkEtag = res.headers[SYSMETA_ETAG];
    const location = (): Record<string, string> => (this.lastTarget === undefined ? {} : { 'content-location': this.lastTarget });
    if (target && (linkEtag || followDynamic)) {
      discardBody(res);
      const found = linkEtag || unquoteEtag(res.headers.etag ?? '');
      if (targetEtag && targetEtag !== found) throw new ResponseError(plainResponse(409, 'X-Symlink-Target-Etag headers do not match', location()));
      if (this.#links >= this.symloopMax) {
        throw new ResponseError(plainResponse(409, `Too many levels of symbolic links, maximum allowed is ${this.symloopMax}`));
      }
      const { version, account } = parseSwiftPath(req.path)!;
      const targetAccount = res.headers[SYSMETA_ACCOUNT] || quote(account);
      this.lastTarget = `/${version}/${targetAccount}/${target.replace(/^\/+/, '')}`;
      const headers = { ...req.headers };
      delete headers['x-backend-storage-policy-index'];
      const hop = subrequest(this.req, { method: req.method, path: unquote(this.lastTarget), headers, source: SOURCE });
      if (!isTrue(res.headers[SYSMETA_SYMLOOP_EXTEND])) this.#links++;
      return this.step(hop, linkEtag, true);
    }
    const finalEtag = res.headers.etag === undefined ? undefined : unquoteEtag(res.headers.etag);
    if (finalEtag && targetEtag && targetEtag !== finalEtag) {
      discardBody(res);
      throw new ResponseError(plainResponse(409, `Object Etag '${finalEtag}' does not match X-Symlink-Target-Etag header '${targetEtag}'`, location()));
    }
    if (this.lastTarget === undefined) return res;
    return { ...res, headers: { ...res.headers, ...location() } };
  }
}

/** Checks X-Symlink-Target (and -Account); the target's /v1 path, %-quoted values written back. */
function prepareTarget(headers: Record<string, string>, path: SwiftPath): { container: string; object: string; account: string } {
  const form = 'X-Symlink-Target header must be of the form <container name>/<object name>';
  const value = unquote(headers[TARGET]!);
  if (value.startsWith('/')) throw new ResponseError(plainResponse(412, form));
  const slash = value.indexOf('/');
  const container = value.slice(0, slash);
  const object = value.slice(slash + 1);
  if (slash <= 0 || !object) throw new ResponseError(bodyResponse(412, form));
  headers[TARGET] = quote(`${container}/${object}`);
  let account = path.account;
  if (headers[TARGET_ACCOUNT] !== undefined) {
    account = unquote(headers[TARGET_ACCOUNT]);
    if (!account) throw new ResponseError(bodyResponse(412, 'Account name cannot be empty'));
    if (account.includes('/')) throw new ResponseError(bodyResponse(412, 'Account name cannot contain slashes'));
    headers[TARGET_ACCOUNT] = quote(account);
  }
  if (account === path.account && container === path.container && object === path.object) {
    throw new ResponseError(plainResponse(400, 'Symlink cannot target itself'));
  }
  return { container, object, account };
}

/** A link must be empty: a body (or a chunked one that turns out not to be empty) is refused. */
async function emptyBody(req: SwiftRequest): Promise<boolean> {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) === 0;
  if (!req.body) return true;
  for await (const chunk of req.body) {
    if ((chunk as Buffer).length) {
      req.body.destroy();
      return false;
    }
  }
  return true;
}

async function putLink(req: SwiftRequest, next: Handler, path: SwiftPath, symloopMax: number): Promise<SwiftResponse> {
  if (!(await emptyBody(req))) return plainResponse(400, 'Symlink requests require a zero byte body');
  const headers = { ...req.headers };
  if (headers['content-length'] === undefined) {
    delete headers['transfer-encoding'];
    headers['content-length'] = '0';
  }
  const target = prepareTarget(headers, path);
  const etag = headers[TARGET_ETAG] === undefined ? undefined : unquoteEtag(headers[TARGET_ETAG]);
  if (etag && /[;"\\]/.test(etag)) return plainResponse(400, 'Bad X-Symlink-Target-Etag format');
  if (!etag && !headers['content-type']) headers['content-type'] = 'application/symlink';
  if (etag) await checkStaticTarget(req, next, headers, target, etag, symloopMax);

  headers[SYSMETA_TARGET] = headers[TARGET]!;
  delete headers[TARGET];
  if (headers[TARGET_ACCOUNT] !== undefined) {
    headers[SYSMETA_ACCOUNT] = headers[TARGET_ACCOUNT]!;
    delete headers[TARGET_ACCOUNT];
  }
  delete headers[TARGET_ETAG];
  // The listing learns of the link through the row's hash (a link's body is always empty).
  const override = [headers[OVERRIDE_ETAG] ?? MD5_OF_EMPTY, `symlink_target=${headers[SYSMETA_TARGET]}`];
  if (headers[SYSMETA_ACCOUNT] !== undefined) override.push(`symlink_target_account=${headers[SYSMETA_ACCOUNT]}`);
  if (headers[SYSMETA_ETAG] !== undefined) override.push(`symlink_target_etag=${headers[SYSMETA_ETAG]}`, `symlink_target_bytes=${headers[SYSMETA_BYTES]}`);
  headers[OVERRIDE_ETAG] = override.join('; ');
  return next({ ...req, headers, body: undefined });
}

/** A static link's target must exist now with the promised ETag; its size and type are recorded. */
async function checkStaticTarget(
  req: SwiftRequest,
  next: Handler,
  headers: Record<string, string>,
  target: { container: string; object: string; account: string },
  etag: string,
  symloopMax: number,
): Promise<void> {
  const { version } = parseSwiftPath(req.path)!;
  const targetPath = `/${version}/${target.account}/${target.container}/${target.object}`;
  const traversal = new Traversal(req, next, symloopMax);
  traversal.lastTarget = `/${version}/${quote(target.account)}/${quote(`${target.container}/${target.object}`)}`;
  const res = await traversal.step(subrequest(req, { method: 'HEAD', path: targetPath, headers: {}, source: SOURCE }), etag, false);
  discardBody(res);
  if (res.status === 404) throw new ResponseError(plainResponse(409, 'X-Symlink-Target does not exist', { 'content-location': traversal.lastTarget }));
  if (!isSuccess(res.status)) throw new ResponseError(errorPage(res.status));
  // a link to a large object lists with its size and ETag
  if (res.headers['x-object-sysmeta-slo-etag'] && headers[OVERRIDE_ETAG] === undefined) {
    headers[OVERRIDE_ETAG] = `${MD5_OF_EMPTY}; slo_etag=${res.headers['x-object-sysmeta-slo-etag']}`;
  }
  headers[SYSMETA_BYTES] = res.headers['x-object-sysmeta-slo-size'] || res.headers['content-length'] || '0';
  headers[SYSMETA_ETAG] = etag;
  if (!headers['content-type'] && res.headers['content-type']) headers['content-type'] = res.headers['content-type'];
}

/** A POST lands on the link itself; the client is told (307) where the target is. */
async function postToLink(req: SwiftRequest, next: Handler, path: SwiftPath): Promise<SwiftResponse> {
  if (req.headers[TARGET] !== undefined) return plainResponse(400, 'A PUT request is required to set a symlink target');
  const res = await next(req);
  const target = res.headers[SYSMETA_TARGET];
  if (!isSuccess(res.status) || !target) return res;
  discardBody(res);
  const headers: Record<string, string> = { location: `/${path.version}/${res.headers[SYSMETA_ACCOUNT] || quote(path.account)}/${target}` };
  if (res.headers[SYSMETA_ETAG]) headers[TARGET_ETAG] = res.headers[SYSMETA_ETAG];
  for (const [name, value] of Object.entries(res.headers)) if (name.startsWith('x-object-sysmeta-')) headers[name] = value;
  return bodyResponse(307, 'The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.', { headers });
}
