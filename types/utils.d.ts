// `require('./utils')` for a type-checked JavaScript function: TypeScript
// resolves that name as a file beside the function, so copy this file there
// (next to the function's .js). authpipe itself does not need it.
declare const authpipeUtils: AuthpipeUtils;
export = authpipeUtils;
