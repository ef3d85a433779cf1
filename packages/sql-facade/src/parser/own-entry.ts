/**
 * Tables keyed by names a statement supplies (functions, types, settings, units) are
 * plain objects, and a plain object also answers the names it inherits from
 * Object.prototype: `constructor`, `__proto__`, and quoted ones such as `"toString"`.
 * Lookups by such a name go through here, so that it is unknown like any other; objects
 * built with such names as keys (a jsonb object, a result row by column name) are
 * written through `setOwn`, where `__proto__` is a key like any other
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

/** `table[name] = value` as a property of `table`'s own, `__proto__` too (which an assignment would take as the prototype). */
export function setOwn<T>(table: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true })
  else table[name] = value
}
