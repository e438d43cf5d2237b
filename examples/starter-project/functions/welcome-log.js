// Runs after the response (async = true): a stand-in for a welcome webhook.
function pipe(user, context, callback) {
  console.log(`welcome ${user.email}`);
  callback(null, user, context);
}
