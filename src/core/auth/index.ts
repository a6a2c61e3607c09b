export { type RequestContext, policyCredentials } from './context.ts';
import './request.ts';
