// Phone number allow-list: only the numbers in env.ALLOWED_PHONE_NUMBERS, or
// numbers starting with one of env.ALLOWED_PHONE_PREFIXES, may register.
// Spaces, dashes, dots and brackets are ignored; a leading 00 means +.
// Trigger: pre-register.
function normalise(phone) {
  const compact = String(phone || '').replace(/[\s\-().]/g, '');
  return compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
}

function list(name) {
  return String(env[name] || '').split(',').map(normalise).filter(Boolean);
}

async function pipe(user, context, callback) {
  const phone = normalise(context.request?.body?.phone || user.phone);
  if (!phone) {
    return callback(new Error('A phone number is required to register.'));
  }
  const allowed =
    list('ALLOWED_PHONE_NUMBERS').includes(phone) ||
    list('ALLOWED_PHONE_PREFIXES').some((prefix) => phone.startsWith(prefix));
  if (!allowed) {
    return callback(new Error('This phone number may not register.'));
  }
  callback(null, user, context);
}
