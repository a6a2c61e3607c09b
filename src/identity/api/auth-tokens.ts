// /v3/auth: issuing, validating and revoking tokens, and what a token may see
// (catalog, projects, domains, system).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, notFound } from '../../core/http/index.ts';
import { fromDbBool } from '../../core/db/index.ts';
import { authorize, collection, queryBool, selfLink, type IdentityDeps } from './common.ts';
import { TokenNotValid, type ValidatedToken } from '../token/token-service.ts';
import type { Authenticator } from '../token/authenticate.ts';
import { projectView } from './views.ts';

/** The token's JSON answer; a scoped token's has the catalog, made for its user and project. */
export async function tokenDocument(deps: IdentityDeps, validated: ValidatedToken, withCatalog: boolean) {
  const token: Record<string, unknown> = { ...validated.body };
  const { userId, projectId } = validated.context;
  if (withCatalog && validated.body.roles) token.catalog = await deps.tokens.catalogFor({ userId, projectId });
  return { token };
}

/** The X-Subject-Token a validation request names; 404 when it is not valid. */
async function subjectToken(req: FastifyRequest, deps: IdentityDeps): Promise<ValidatedToken> {
  const subject = req.headers['x-subject-token'];
  if (typeof subject !== 'string' || subject === '') throw new HttpError(400, 'The X-Subject-Token header is required.');
  const allowExpired = queryBool((req.query as Record<string, unknown>).allow_expired) ?? false;
  try {
    return await deps.tokens.validate(subject, { allowExpired });
  } catch (err) {
    if (err instanceof TokenNotValid) throw notFound(`Could not find token: ${subject.slice(0, 12)}...`);
    throw err;
  }
}

export function registerAuthTokens(app: FastifyInstance, deps: IdentityDeps, authenticator: Authenticator): void {
  app.post('/v3/auth/tokens', async (req, reply) => {
    const header = req.headers['x-auth-token'];
    const validated = await authenticator.authenticate(req.body, typeof header === 'string' ? header : undefined);
    const nocatalog = (req.query as Record<string, unknown>).nocatalog !== undefined;
    reply.status(201).header('x-subject-token', validated.token);
    return tokenDocument(deps, validated, !nocatalog);
  });

  const checked = async (req: FastifyRequest, rule: string) => {
    const subject = await subjectToken(req, deps);
    authorize(req, deps, rule, { target: { token: { user_id: subject.data.userId } } });
    return subject;
  };

  app.get('/v3/auth/tokens', { exposeHeadRoute: false }, async (req, reply) => {
    const subject = await checked(req, 'identity:validate_token');
    reply.header('x-subject-token', subject.token);
    const nocatalog = (req.query as Record<string, unknown>).nocatalog !== undefined;
    return tokenDocument(deps, subject, !nocatalog);
  });

  app.head('/v3/auth/tokens', async (req, reply) => {
    const subject = await checked(req, 'identity:check_token');
    reply.status(200).header('x-subject-token', subject.token).send();
  });

  app.delete('/v3/auth/tokens', async (req, reply) => {
    const subject = await checked(req, 'identity:revoke_token');
    await deps.tokens.revoke(subject);
    reply.status(204).send();
  });

  app.get('/v3/auth/catalog', async (req) => {
    const ctx = authorize(req, deps, 'identity:get_auth_catalog');
    if (!ctx.projectId && !ctx.domainId && !ctx.system) {
      throw new HttpError(403, 'A scoped token is required to see the catalog.');
    }
    return { catalog: await deps.tokens.catalogFor({ userId: ctx.userId, projectId: ctx.projectId }), links: selfLink(req, deps, 'auth/catalog') };
  });

  app.get('/v3/auth/projects', async (req) => {
    const ctx = authorize(req, deps, 'identity:get_auth_projects');
    const projects = await deps.store.db.selectFrom('project').selectAll().where('is_domain', '=', 0).where('enabled', '=', 1).orderBy('name').execute();
    const visible = [];
    for (const p of projects) {
      if ((await deps.tokens.rolesOn(ctx.userId, { projectId: p.id })).length) visible.push(p);
    }
    const tags = await deps.store.db.selectFrom('project_tag').selectAll().execute();
    return collection(req, deps, 'projects', visible.map((p) => projectView(req, deps, p, tags)));
  });

  app.get('/v3/auth/domains', async (req) => {
    const ctx = authorize(req, deps, 'identity:get_auth_domains');
    const domains = await deps.store.db.selectFrom('project').selectAll().where('is_domain', '=', 1).orderBy('name').execute();
    const visible = [];
    for (const d of domains) {
      if (fromDbBool(d.enabled) && (await deps.tokens.rolesOn(ctx.userId, { domainId: d.id })).length) visible.push(d);
    }
    return collection(req, deps, 'domains', visible.map((d) => ({
      id: d.id, name: d.name, description: d.description ?? '', enabled: fromDbBool(d.enabled), links: selfLink(req, deps, `domains/${d.id}`),
    })));
  });

  app.get('/v3/auth/system', async (req) => {
    const ctx = authorize(req, deps, 'identity:get_auth_system');
    const roles = await deps.tokens.rolesOn(ctx.userId, { system: 'all' });
    return { system: roles.length ? [{ all: true }] : [], links: selfLink(req, deps, 'auth/system') };
  });
}

