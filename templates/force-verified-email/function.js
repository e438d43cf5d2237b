// Force a verified email: sign-in is denied while user.emailVerified is not
// true, except through the connections in env.EXEMPT_CONNECTIONS.
// Trigger: pre-authentication.
async function pipe(user, context, callback) {
  const connection = String(
    (context.connection && (context.connection.name || context.connection)) || '',
  ).toLowerCase();
  const exempt = String(env.EXEMPT_CONNECTIONS || '').split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
  if (user.emailVerified !== true && !exempt.includes(connection)) {
    return callback(new Error('Please verify your email address before signing in.'));
  }
  callback(null, user, context);
}
