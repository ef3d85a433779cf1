/**
 * The browser build of libpg-query carries its WASM inside the JavaScript, so an
 * application bundles `@concord/browser` (or `@concord/sql-facade`) with any bundler and
 * no options: nothing to copy beside the bundle, no URL to configure.
 *
 * The module is stored gzip-compressed and base64-encoded (about 450 KB of text, about
 * the same bytes on the wire as the 340 KB gzipped .wasm file it replaces) and inflated
 * with the browser's own `DecompressionStream` when the parser first loads.
 *
 * Invariants: the factory's own loader (fetch of `libpg-query.wasm` beside the page) is
 * never used; a failure to inflate or instantiate rejects the factory's promise (and so
 * libpg-query's `loadModule()`), it never leaves it pending.
 */

/** Replaced at build time (browser-parser.ts) by the gzipped module in base64. */
declare const __CONCORD_PG_WASM_GZIP_BASE64__: string

type Imports = WebAssembly.Imports
type Factory<M> = (moduleArg: Record<string, unknown>) => Promise<M>

async function wasmBytes(): Promise<ArrayBuffer> {
  const text = atob(__CONCORD_PG_WASM_GZIP_BASE64__)
  const gzip = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) gzip[i] = text.charCodeAt(i)
  const inflated = new Blob([gzip]).stream().pipeThrough(new DecompressionStream('gzip'))
  return new Response(inflated).arrayBuffer()
}

/** Calls Emscripten's module factory with an `instantiateWasm` hook fed from the bundle. */
export function withEmbeddedWasm<M>(factory: Factory<M>, moduleArg: Record<string, unknown> = {}): Promise<M> {
  let fail!: (reason: unknown) => void
  const failed = new Promise<never>((_, reject) => (fail = reject))
  const instantiateWasm = (imports: Imports, receive: (instance: WebAssembly.Instance) => void): object => {
    wasmBytes()
      .then((bytes) => WebAssembly.instantiate(bytes, imports))
      .then((result) => receive(result.instance), fail)
    return {}
  }
  return Promise.race([factory({ ...moduleArg, instantiateWasm }), failed])
}
