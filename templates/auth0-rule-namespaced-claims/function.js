/**
 * Auth0 Rule: add the user's roles and plan from app_metadata to the tokens,
 * under a namespace (configuration.CLAIM_NAMESPACE). Runs unmodified in
 * authpipe: context.idToken / context.accessToken become the stage's claims.
 * Trigger: post-authentication.
 */
function addNamespacedClaims(user, context, callback) {
  const namespace = configuration.CLAIM_NAMESPACE || 'https://example.com/';
  const appMetadata = user.app_metadata || {};
  const roles = appMetadata.roles || [];

  context.idToken[namespace + 'roles'] = roles;
  context.accessToken[namespace + 'roles'] = roles;
  if (appMetadata.plan) {
    context.idToken[namespace + 'plan'] = appMetadata.plan;
  }
  callback(null, user, context);
}
