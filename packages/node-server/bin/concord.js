#!/usr/bin/env node
// Launches src/cli.ts under tsx (the packages ship TypeScript sources) with the Node
// flags libp2p needs: Node 20 has a global WebSocket only with --experimental-websocket.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// Resolved from here, not from the caller's working directory.
const tsx = import.meta.resolve('tsx')
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const major = Number(process.versions.node.split('.')[0])
const flags = [...(major < 22 ? ['--experimental-websocket'] : []), '--no-warnings=ExperimentalWarning', '--import', tsx]
const child = spawn(process.execPath, [...flags, cli, ...process.argv.slice(2)], { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
