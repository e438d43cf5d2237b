// Email domain allow-list: only users whose email domain is listed in
// env.ALLOWED_DOMAINS (comma-separated) may register.
// Trigger: pre-register. Env: ALLOWED_DOMAINS, e.g. "example.com, example.org".
async function pipe(user, context, callback) {
  const email = String(context.request?.body?.email || user.email || '').trim().toLowerCase();
  const at = email.lastIndexOf('@');
  const domain = at > 0 ? email.slice(at + 1) : '';
  const allowed = String(env.ALLOWED_DOMAINS || '')
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  if (!domain || !allowed.includes(domain)) {
    return callback(new Error('Access denied.'));
  }
  callback(null, user, context);
}
