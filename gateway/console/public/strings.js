// Every text the pages show, in one place: the Chinese translation replaces this file's table.
export const STRINGS = {
  title: 'Gatehouse console',
  username: 'Username',
  password: 'Password',
  login: 'Sign in',
  logout: 'Sign out',
  loginFailed: 'Wrong username or password.',
  lockedOut: 'Too many failed attempts. Try again later.',
  setupTitle: 'Create the first administrator',
  setupDone: 'Administrator created. You can sign in now.',
  setupFailed: 'The setup link is wrong, used or expired.',
  passwordHint: 'At least 12 characters.',
  openAlarms: 'Open alarms',
  noAlarms: 'No open alarms.',
  acknowledge: 'Acknowledge',
  acknowledgedBy: 'acknowledged by',
  failed: 'The request failed',
  live: 'live',
  offline: 'reconnecting…',
};
export const t = (key) => STRINGS[key] ?? key;
