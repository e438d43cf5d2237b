/**
 * Auth0 Action (Login / post-login): deny logins from the countries in the
 * BLOCKED_COUNTRIES secret, then add the user's roles and the client id as
 * namespaced custom claims.
 * Trigger: post-authentication (Auth0's post-login flow).
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const blocked = (event.secrets.BLOCKED_COUNTRIES || '').split(',').map((c) => c.trim()).filter(Boolean);
  const country = event.request.geoip.countryCode || event.request.geoip.country_code;
  if (country && blocked.includes(country)) {
    api.access.deny(`Logins from ${country} are not allowed.`);
    return;
  }
  const namespace = event.secrets.CLAIM_NAMESPACE || 'https://example.com/';
  api.idToken.setCustomClaim(`${namespace}roles`, event.authorization ? event.authorization.roles : []);
  api.accessToken.setCustomClaim(`${namespace}client`, event.client.client_id);
};
