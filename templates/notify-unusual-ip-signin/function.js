// Notify on sign-in from an unusual IP: when the sign-in address is neither
// user.lastIP nor in user.knownIPs, and outside env.TRUSTED_IP_RANGES, an
// alert goes to the Slack-compatible webhook in env.ALERT_WEBHOOK.
// Trigger: post-authentication (async). Env: ALERT_WEBHOOK (secret), TRUSTED_IP_RANGES.
async function pipe(user, context, callback) {
  const ip = String(context.request?.ip || context.ip || '').trim();
  const known = [user.lastIP, user.lastIp, ...(Array.isArray(user.knownIPs) ? user.knownIPs : [])].filter(Boolean);
  const trusted = String(env.TRUSTED_IP_RANGES || '').split(',').map((r) => r.trim()).filter(Boolean);
  if (!ip || known.includes(ip) || trusted.some((cidr) => utils.ipInCidr(ip, cidr))) {
    return callback(null, user, context);
  }
  const who = user.email || user.phone || user.username || user.id;
  const last = known.length > 0 ? ` (last seen from ${known[0]})` : '';
  try {
    await axios.post(env.ALERT_WEBHOOK, { text: `Sign-in for ${who} from a new address ${ip}${last}` });
    log(`alerted: ${ip} is new for ${who}`);
  } catch (err) {
    console.error(`unusual-IP alert failed: ${err.message}`);
  }
  callback(null, user, context);
}
