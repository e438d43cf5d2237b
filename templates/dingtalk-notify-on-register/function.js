// Notify DingTalk on registration: sends a text message to the group robot
// in env.DINGTALK_WEBHOOK, starting with env.DINGTALK_KEYWORD when the robot
// is secured by keyword. DingTalk answers 200 with {errcode, errmsg}.
// Trigger: post-register (async). Env: DINGTALK_WEBHOOK (secret), DINGTALK_KEYWORD.
async function pipe(user, context, callback) {
  const who = user.email || user.phone || user.username || user.id;
  const keyword = env.DINGTALK_KEYWORD ? `[${env.DINGTALK_KEYWORD}] ` : '';
  const content = `${keyword}New user registered: ${who}`;
  try {
    const { data } = await axios.post(env.DINGTALK_WEBHOOK, { msgtype: 'text', text: { content } });
    if (data && data.errcode === 0) {
      log(`notified DingTalk about ${who}`);
    } else {
      console.warn(`DingTalk refused the message: ${data && data.errmsg}`);
    }
  } catch (err) {
    console.error(`DingTalk notification failed: ${err.message}`);
  }
  callback(null, user, context);
}
