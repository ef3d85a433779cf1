/**
 * Tables keyed by names a statement supplies (functions, types, settings, units) are
 * plain objects, and a plain object also answers the names it inherits from
 * Object.prototype: `constructor`, `__proto__`, and quoted ones such as `"toString"`.
 * Lookups by such a name go through here, so that it is unknown like any other
 * (errors/prototype-names.test.ts).
 */

/** Whether every plain object has `name` (own or inherited from Object.prototype). */
export function inheritedName(name: string): boolean {
  return name in Object.prototype
}

/** `table[name]` when `table` holds `name` itself; undefined for a name it only inherits. */
export function ownEntry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined
}
