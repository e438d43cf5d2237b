// IP range allow-list: only requests from the ranges in env.ALLOWED_IP_RANGES
// may sign in. Entries are CIDRs ("10.0.0.0/8", "2001:db8::/32") or
// start-end ranges ("192.168.1.10-192.168.1.20"), comma-separated.
// Triggers: pre-authentication, pre-register.
const { ipRangeCheck } = require('./utils');

function inRange(ip, range) {
  const dash = range.indexOf('-');
  if (dash > 0) {
    return ipRangeCheck(ip, [range.slice(0, dash).trim(), range.slice(dash + 1).trim()]);
  }
  return utils.ipInCidr(ip, range);
}

async function pipe(user, context, callback) {
  const ip = String(context.request?.ip || context.ip || '').trim();
  const ranges = String(env.ALLOWED_IP_RANGES || '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (!ip || !ranges.some((range) => inRange(ip, range))) {
    return callback(new Error(`Access from ${ip || 'an unknown address'} is not allowed.`));
  }
  callback(null, user, context);
}
