// Only addresses of env.ALLOWED_DOMAIN may register.
async function pipe(user, context, callback) {
  const email = String(context.request.body.email || user.email || '');
  if (!email.endsWith('@' + env.ALLOWED_DOMAIN)) {
    return callback(new Error('Access denied.'));
  }
  callback(null, user, context);
}
