export { type RequestContext, policyCredentials } from './context.ts';
export { TokenValidator, serviceTokenValidator, type ServiceAuthOptions, contextFromToken, type TokenValidatorOptions } from './token-validator.ts';
export { InvalidTokenError, IdentityUnavailableError } from './errors.ts';
export { ServiceSession, EndpointNotFoundError, type EndpointInterface, type EndpointQuery, type ServiceCredentials } from './service-session.ts';
export { registerTokenAuth } from './hook.ts';
import './request.ts';
