import { runSeed } from '/work/main/packages/core/src/sim/campaign.ts'
import { Shard } from '/work/main/packages/core/src/rows/shard.ts'
import { entryHlc, entryBorn } from '/work/main/packages/core/src/rows/writer-entry.ts'
const seed = Number(process.argv[2]); const table = process.argv[3]; const key = process.argv[4].replace('|', '\u0000')
const P: any = Shard.prototype
const oKeep = P.keepsOnAdoption
P.keepsOnAdoption = function (k: string, r: unknown, next: any) {
  const res = oKeep.call(this, k, r, next)
  if (this.id.endsWith(':' + table) && k === key) console.log('ADOPT on', this.writer, 'gen', this.generation, 'keeps', res, 'hlc', entryHlc(r), 'born', entryBorn(r), 'frontier', next.doc.getMap('frontier').get(k.split('\u0000')[1]), 'rowCl', this.rowCl(k.split('\u0000')[0]))
  return res
}
const oRew = P.rewriteAsGeneration
P.rewriteAsGeneration = function (g: number, b: number, st: Set<string>) {
  if (this.id.endsWith(':' + table)) {
    const rk = key.split('\u0000')[0] + '\u0000'
    for (const m of [this.map, ...this.prevs.map((p: any) => p.map)]) for (const [k, v] of m.entries()) if (k.startsWith(rk)) console.log('   builder has', JSON.stringify(k), JSON.stringify(v))
    console.log('   stable', JSON.stringify([...st]))
    const r = this.raw(key)
    console.log('BUILD by', this.writer, this.generation, '->', g, 'size', this.map.size, 'has key', r === undefined ? '-' : entryHlc(r), 'stable', [...st].length)
  }
  return oRew.call(this, g, b, st)
}
const oAd = P.adoptGeneration
P.adoptGeneration = function (g: number, st: any) {
  if (this.id.endsWith(':' + table) && key.endsWith('\u0000' + this.writer)) { const r = this.raw(key); console.log('ADOPTING', this.writer, this.generation, '->', g, 'own', r === undefined ? '-' : entryHlc(r)) }
  return oAd.call(this, g, st)
}
import { Simulation } from '/work/main/packages/core/src/sim/simulation.ts'
const SP: any = Simulation.prototype
const oc = SP.crash; SP.crash = function (id: string) { console.log('CRASH', id, this.time); return oc.call(this, id) }
const or = SP.restart; SP.restart = async function (id: string) { console.log('RESTART', id, this.time); return or.call(this, id) }
const oAG = (await import('/work/main/packages/core/src/replica.ts')).Replica.prototype as any
const oag = oAG.adoptGeneration
oAG.adoptGeneration = function (shard: any, g: number, st: any) { if (shard.id.endsWith(':' + table) && this.nodeId === 'n15') console.log('n15 adopts', shard.generation, '->', g); return oag.call(this, shard, g, st) }
const RP: any = (await import('/work/main/packages/core/src/replica.ts')).Replica.prototype
const oRes = RP.resolveEntries
RP.resolveEntries = function (shardId: string, entries: any) {
  if (shardId.endsWith(':' + table)) { const rk = key.split('\u0000')[0] + '\u0000'; for (const [k, v] of entries) if (k.startsWith(rk)) console.log('TWIN', JSON.stringify(k), JSON.stringify(v)) }
  return oRes.call(this, shardId, entries)
}
await runSeed(seed, { peers: 20, steps: Number(process.env.STEPS ?? 300) }).then(() => console.log('ok'), (e) => console.log(String(e).slice(0, 100)))
