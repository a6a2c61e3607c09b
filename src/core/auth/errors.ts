// What can go wrong when a service asks Identity about a token.

/** The token is unknown, expired or revoked. */
export class InvalidTokenError extends Error {}

/** Identity could not be reached or refused the service's own login. */
export class IdentityUnavailableError extends Error {}
