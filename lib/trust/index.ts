// Trust shared by every deployable (the app, extracted services and the proxy): one token
// verifier, one meaning of scopes, and development keys kept out of the source. It imports
// nothing from src/ or proxy/, and both may import it (see .dependency-cruiser.js).
export { bearerToken } from './bearer.ts';
export { ADMIN_SCOPE, TESTER_SCOPE, hasScope, scopesFromClaims, type Identity } from './identity.ts';
export { createTokenVerifier, DEFAULT_MAX_LIFETIME_SECONDS, TokenKeysUnavailable, TokenRejected, type TokenVerifier, type VerifierOptions } from './token-verifier.ts';
export { mintToken, type MintOptions } from './mint-token.ts';
export { developmentKeys, developmentKeysFile, DEV_KEYS_FILE, isLoopbackHost, type DevelopmentKeys } from './development-keys.ts';
