// Custom access-token claims: `permissions` is the union of the permissions
// of the user's roles (env.PERMISSIONS_BY_ROLE, JSON), `tenant_id` comes from
// the user (tenantId) or the application's context.
// Trigger: pre-oidc-access-token-issued.
async function pipe(user, context, callback) {
  let byRole;
  try {
    byRole = JSON.parse(env.PERMISSIONS_BY_ROLE || '{}');
  } catch (err) {
    throw new Error(`env.PERMISSIONS_BY_ROLE is not JSON: ${err.message}`);
  }
  const roles = (Array.isArray(user.roles) ? user.roles : [])
    .map((role) => (typeof role === 'string' ? role : role && role.code))
    .filter(Boolean);
  const permissions = [...new Set(roles.flatMap((role) => byRole[role] || []))].sort();
  user.addAccessToken('permissions', permissions);
  const tenant = user.tenantId || context.app?.tenantId;
  if (tenant) user.addAccessToken('tenant_id', tenant);
  callback(null, user, context);
}
