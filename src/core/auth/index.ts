export { type RequestContext, policyCredentials } from './context.ts';
export { TokenValidator, serviceTokenValidator, type ServiceAuthOptions, InvalidTokenError, IdentityUnavailableError, contextFromToken, type ServiceCredentials, type TokenValidatorOptions } from './token-validator.ts';
export { registerTokenAuth } from './hook.ts';
import './request.ts';
