// Email-domain allow-list: only addresses in env.ALLOWED_DOMAIN may sign up.
// Trigger: pre-register. Env: ALLOWED_DOMAIN (for example "example.com").
async function pipe(user, context, callback) {
  const email = String(context.request.body.email || user.email || '');
  if (!email.endsWith('@' + env.ALLOWED_DOMAIN)) {
    return callback(new Error('Access denied.'));
  }
  user.addIdToken('tier', 'gold');
  callback(null, user, context);
}
