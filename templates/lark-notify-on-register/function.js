// Notify Lark (Feishu) on registration: sends a text message to the custom
// bot in env.LARK_WEBHOOK. Lark answers {code: 0} (or {StatusCode: 0}) on
// success.
// Trigger: post-register (async). Env: LARK_WEBHOOK (secret).
async function pipe(user, context, callback) {
  const who = user.email || user.phone || user.username || user.id;
  const text = `New user registered: ${who}`;
  try {
    const res = await fetch(env.LARK_WEBHOOK, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ msg_type: 'text', content: { text } }),
    });
    const data = await res.json().catch(() => ({}));
    const code = data.code !== undefined ? data.code : data.StatusCode;
    if (res.ok && code === 0) {
      log(`notified Lark about ${who}`);
    } else {
      console.warn(`Lark refused the message (HTTP ${res.status}): ${data.msg || data.StatusMessage || 'no reason given'}`);
    }
  } catch (err) {
    console.error(`Lark notification failed: ${err.message}`);
  }
  callback(null, user, context);
}
