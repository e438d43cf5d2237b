// Block sign-in in a time window: sign-ins during env.BLOCKED_HOURS
// ("22:00-06:00", may cross midnight) in the clock of env.UTC_OFFSET
// ("+08:00") are denied, on the weekdays of env.BLOCKED_DAYS ("sat,sun";
// empty: every day). context.now, when given (ISO time or epoch ms), is
// used instead of the current time.
// Trigger: pre-authentication.
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function minutesOf(hhmm) {
  const match = /^(\d{1,2}):(\d{2})$/.exec(String(hhmm).trim());
  if (!match || Number(match[1]) > 24 || Number(match[2]) > 59) {
    throw new Error(`env.BLOCKED_HOURS: ${stringifyTime(hhmm)} is not HH:MM`);
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

function stringifyTime(value) {
  return JSON.stringify(String(value));
}

function offsetMinutes(text) {
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(String(text || '+00:00').trim());
  if (!match) throw new Error(`env.UTC_OFFSET: ${stringifyTime(text)} is not like +08:00`);
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

async function pipe(user, context, callback) {
  const [start, end] = String(env.BLOCKED_HOURS || '').split('-').map(minutesOf);
  const now = context.now !== undefined ? new Date(context.now).getTime() : Date.now();
  if (Number.isNaN(now)) throw new Error(`context.now is not a time: ${stringifyTime(context.now)}`);
  const local = new Date(now + offsetMinutes(env.UTC_OFFSET) * 60000);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const days = String(env.BLOCKED_DAYS || '').split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
  const today = DAYS[local.getUTCDay()];
  const inWindow = start <= end ? minute >= start && minute < end : minute >= start || minute < end;
  if (inWindow && (days.length === 0 || days.includes(today))) {
    return callback(new Error(`Sign-in is not available between ${env.BLOCKED_HOURS} (UTC${env.UTC_OFFSET || '+00:00'}).`));
  }
  callback(null, user, context);
}
