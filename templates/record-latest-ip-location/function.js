// Record the latest IP and location: custom data `last_ip`, `last_login_at`
// and `last_location` ({city, region, country}) from the geo-IP service in
// env.GEOIP_URL ("https://ipinfo.io/{ip}/json"). Private and loopback
// addresses are recorded without a lookup.
// Trigger: post-authentication.
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', 'fc00::/7', '::1/128'];

async function pipe(user, context, callback) {
  const ip = String(context.request?.ip || context.ip || '').trim();
  if (!ip) return callback(null, user, context);
  user.addCustomData('last_ip', ip);
  user.addCustomData('last_login_at', new Date().toISOString());
  if (env.GEOIP_URL && !PRIVATE.some((cidr) => utils.ipInCidr(ip, cidr))) {
    try {
      const res = await fetch(env.GEOIP_URL.replace('{ip}', encodeURIComponent(ip)));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const geo = await res.json();
      user.addCustomData('last_location', {
        city: geo.city || null,
        region: geo.region || null,
        country: geo.country || null,
      });
    } catch (err) {
      console.warn(`geo lookup for ${ip} failed: ${err.message}`);
    }
  }
  callback(null, user, context);
}
