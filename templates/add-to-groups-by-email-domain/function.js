// Add users to groups by email domain: env.GROUPS_BY_DOMAIN maps a domain to
// its groups (JSON), env.DEFAULT_GROUPS lists groups for everyone. The result
// is stored as custom data `groups` and sent as the `groups` ID-token claim.
// Trigger: pre-register.
function groupsByDomain() {
  try {
    const mapping = JSON.parse(env.GROUPS_BY_DOMAIN || '{}');
    if (mapping !== null && typeof mapping === 'object' && !Array.isArray(mapping)) return mapping;
  } catch (_) {
    // reported below
  }
  throw new Error('env.GROUPS_BY_DOMAIN must be a JSON object like {"example.com": ["staff"]}');
}

async function pipe(user, context, callback) {
  const mapping = groupsByDomain();
  const email = String(user.email || context.request?.body?.email || '').toLowerCase();
  const domain = email.includes('@') ? email.slice(email.lastIndexOf('@') + 1) : '';
  const defaults = String(env.DEFAULT_GROUPS || '').split(',').map((g) => g.trim()).filter(Boolean);
  const extra = Array.isArray(mapping[domain]) ? mapping[domain] : [];
  const groups = [...new Set([...defaults, ...extra])];
  user.addCustomData('groups', groups);
  user.addIdToken('groups', groups);
  log(`groups for ${email || user.id}: ${groups.join(', ') || 'none'}`);
  callback(null, user, context);
}
