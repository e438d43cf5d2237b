// Derives a nickname from the email and records where the user signed up.
function pipe(user, context, callback) {
  if (!user.nickname && user.email) user.nickname = user.email.split('@')[0];
  user.addCustomData('signup_ip', context.request.ip);
  callback(null, user, context);
}
