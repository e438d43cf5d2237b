// Block a social connection: sign-in and registration through the
// connections in env.BLOCKED_CONNECTIONS are denied. The connection is read
// from context.connection (a name, or an object with `name`) or from the
// request body's `connection`.
// Triggers: pre-authentication, pre-register.
function connectionOf(context) {
  const connection = context.connection;
  if (connection && typeof connection === 'object') return connection.name || connection.type || '';
  return connection || context.request?.body?.connection || '';
}

async function pipe(user, context, callback) {
  const connection = String(connectionOf(context)).trim().toLowerCase();
  const blocked = String(env.BLOCKED_CONNECTIONS || '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  if (connection && blocked.includes(connection)) {
    return callback(new Error(`Signing in with ${connection} is disabled.`));
  }
  callback(null, user, context);
}
