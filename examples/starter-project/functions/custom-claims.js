// Adds the user's tier to the ID token and roles to the access token.
function pipe(user, context, callback) {
  user.addIdToken('tier', user.tier || env.DEFAULT_TIER);
  user.addAccessToken('roles', user.roles || ['member']);
  callback(null, user, context);
}
