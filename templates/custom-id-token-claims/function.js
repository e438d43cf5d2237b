// Custom ID-token claims: <namespace>roles, <namespace>tier and
// <namespace>app, with the namespace from env.CLAIM_NAMESPACE; users of the
// domains in env.GOLD_DOMAINS get tier "gold". phone_number is removed from
// the token unless the phone is verified.
// Trigger: pre-oidc-id-token-issued.
async function pipe(user, context, callback) {
  const ns = env.CLAIM_NAMESPACE || '';
  const roles = (Array.isArray(user.roles) ? user.roles : [])
    .map((role) => (typeof role === 'string' ? role : role && role.code))
    .filter(Boolean);
  const domain = String(user.email || '').split('@')[1] || '';
  const gold = String(env.GOLD_DOMAINS || '').split(',').map((d) => d.trim().toLowerCase()).includes(domain.toLowerCase());
  user.addIdToken(`${ns}roles`, roles);
  user.addIdToken(`${ns}tier`, gold ? 'gold' : 'standard');
  if (context.app?.id) user.addIdToken(`${ns}app`, context.app.id);
  if (!user.phoneVerified) user.removeIdToken('phone_number');
  callback(null, user, context);
}
