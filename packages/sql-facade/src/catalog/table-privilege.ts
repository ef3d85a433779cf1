/**
 * Table privileges by PostgreSQL's names and aclitem letters (`arwdDxt`): SELECT r,
 * INSERT a, UPDATE w, DELETE d, TRUNCATE D, REFERENCES x, TRIGGER t. ALL is every one.
 * Concord checks the first five (auth/access-check.ts); REFERENCES and TRIGGER can be
 * granted and are shown, but creating a foreign key or trigger is DDL, which needs
 * ownership anyway.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { ownEntry } from '../parser/own-entry.js'

export type PrivilegeLetter = 'r' | 'a' | 'w' | 'd' | 'D' | 'x' | 't' | 'U'

/** aclitem order. */
export const ALL_PRIVILEGES: readonly PrivilegeLetter[] = ['a', 'r', 'w', 'd', 'D', 'x', 't']

/** A sequence's privileges (aclitem `rwU`): SELECT (currval, lastval), UPDATE (nextval, setval), USAGE (nextval, currval, lastval). */
export const SEQUENCE_PRIVILEGES: readonly PrivilegeLetter[] = ['r', 'w', 'U']

const BY_NAME: Record<string, PrivilegeLetter> = {
  select: 'r', insert: 'a', update: 'w', delete: 'd', truncate: 'D', references: 'x', trigger: 't', usage: 'U',
}

const NAMES: Record<PrivilegeLetter, string> = {
  r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', D: 'TRUNCATE', x: 'REFERENCES', t: 'TRIGGER', U: 'USAGE',
}

export function privilegeName(letter: PrivilegeLetter): string {
  return NAMES[letter]
}

/** The letter of a table privilege name (any case); 22023 for anything else, as PostgreSQL. */
export function privilegeLetter(name: string): PrivilegeLetter {
  const l = ownEntry(BY_NAME, name.trim().toLowerCase())
  if (l === undefined) throw new SqlError(SqlState.invalidParameterValue, `unrecognized privilege type: "${name.trim()}"`)
  return l
}

/** has_table_privilege's privilege text: names separated by commas, each optionally `WITH GRANT OPTION`. */
export function privilegeList(text: string): Array<{ letter: PrivilegeLetter; grantOption: boolean }> {
  return text.split(',').map((p) => {
    const grantOption = /\s+with\s+grant\s+option\s*$/i.test(p)
    return { letter: privilegeLetter(p.replace(/\s+with\s+grant\s+option\s*$/i, '')), grantOption }
  })
}

/** Letters in aclitem order, for `{alice=arw/owner}`; each of `options` (held WITH GRANT OPTION) followed by `*`. */
export function aclLetters(letters: Iterable<PrivilegeLetter>, options: Iterable<PrivilegeLetter> = []): string {
  const set = new Set(letters)
  const starred = new Set(options)
  return [...ALL_PRIVILEGES, 'U'].filter((l) => set.has(l as PrivilegeLetter)).map((l) => (starred.has(l as PrivilegeLetter) ? `${l}*` : l)).join('')
}
