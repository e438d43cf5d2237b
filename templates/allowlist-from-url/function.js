// Allow-list loaded from a URL: env.ALLOWLIST_URL serves a JSON array (or
// one entry per line) of emails ("alice@example.com") and domains
// ("@example.com"). Registrations not on it are denied; if the list cannot
// be loaded the function throws, so the pipeline fails closed.
// Trigger: pre-register.
async function loadList(url) {
  const res = await fetch(url, { headers: { accept: 'application/json, text/plain' } });
  if (!res.ok) throw new Error(`the allow-list at ${url} answered HTTP ${res.status}`);
  const text = await res.text();
  let entries;
  try {
    entries = JSON.parse(text);
  } catch (_) {
    entries = text.split('\n');
  }
  if (!Array.isArray(entries)) throw new Error(`the allow-list at ${url} is not a list`);
  return entries.map((e) => String(e).trim().toLowerCase()).filter((e) => e && !e.startsWith('#'));
}

async function pipe(user, context, callback) {
  const email = String(context.request?.body?.email || user.email || '').trim().toLowerCase();
  const list = await loadList(env.ALLOWLIST_URL);
  const domain = email.includes('@') ? email.slice(email.lastIndexOf('@')) : null;
  if (!email || !(list.includes(email) || (domain && list.includes(domain)))) {
    return callback(new Error('This address is not on the allow-list.'));
  }
  log(`${email} is on the allow-list (${list.length} entries)`);
  callback(null, user, context);
}
