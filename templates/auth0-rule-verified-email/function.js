/**
 * Auth0 Rule: force email verification. Denies the login with an
 * UnauthorizedError until user.email_verified is true, except through the
 * connections in configuration.EXEMPT_CONNECTIONS.
 * Trigger: post-authentication.
 */
function (user, context, callback) {
  const exempt = (configuration.EXEMPT_CONNECTIONS || '')
    .split(',')
    .map(function (name) { return name.trim(); })
    .filter(Boolean);
  if (!user.email_verified && exempt.indexOf(context.connection) === -1) {
    return callback(new UnauthorizedError('Please verify your email before logging in.'));
  }
  return callback(null, user, context);
}
