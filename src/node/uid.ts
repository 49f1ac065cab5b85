/** What a UID may look like when it names a file or directory: digits and dots, 1-64 chars. */
export const SAFE_UID = /^[0-9.]{1,64}$/;

/** True when `uid` is safe to use as a path component (no separators, no `..` tricks beyond dots). */
export function isSafeUid(uid: string): boolean {
  // "." and ".." are made only of dots: they pass the pattern but would climb the tree.
  return SAFE_UID.test(uid) && /[0-9]/.test(uid);
}
