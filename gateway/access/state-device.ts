/**
 * The device id of access control's own retained state (`state/access`: the credential
 * list's version; the schema reserves the id so no device can take it). Apart from
 * sync-commands.ts so the console declaration can name it without loading the credential code.
 */
export const ACCESS_STATE_DEVICE = 'access';
