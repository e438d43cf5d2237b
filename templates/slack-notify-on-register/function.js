// Notify Slack on registration: posts a message to the incoming webhook in
// env.SLACK_WEBHOOK. A failed notification is logged, never fatal.
// Trigger: post-register (async). Env: SLACK_WEBHOOK (secret).
async function pipe(user, context, callback) {
  const who = user.email || user.phone || user.username || user.id;
  const app = context.app?.name ? ` to ${context.app.name}` : '';
  const from = context.request?.ip ? ` from ${context.request.ip}` : '';
  const text = `New user registered${app}: ${who}${from}`;
  try {
    const res = await fetch(env.SLACK_WEBHOOK, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    if (res.ok) {
      log(`notified Slack about ${who}`);
    } else {
      console.warn(`Slack answered ${res.status}: ${await res.text()}`);
    }
  } catch (err) {
    console.error(`Slack notification failed: ${err.message}`);
  }
  callback(null, user, context);
}
