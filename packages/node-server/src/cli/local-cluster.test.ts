import { describe, expect, it } from 'vitest'
import { parseClusterOptions } from './local-cluster.js'
import { UsageError } from './start-options.js'

describe('concord cluster options', () => {
  it('defaults to three nodes from port 5432 under ./cluster-data', () => {
    expect(parseClusterOptions([])).toEqual({ nodes: 3, dataDir: './cluster-data', pgPort: 5432, host: '127.0.0.1', clusterKey: undefined })
  })

  it('takes flags and rejects bad ones with a usage error', () => {
    const parsed = parseClusterOptions(['--nodes', '2', '--pg-port', '6000', '--data-dir', 'x'])
    expect(parsed).toMatchObject({ nodes: 2, pgPort: 6000, dataDir: 'x' })
    expect(() => parseClusterOptions(['--nodes', '0'])).toThrow(UsageError)
    expect(() => parseClusterOptions(['--nodes', '99'])).toThrow(UsageError)
    // Ten nodes on one machine (issue 20's real cluster) is accepted.
    expect(parseClusterOptions(['--nodes', '10']).nodes).toBe(10)
    expect(() => parseClusterOptions(['--pg-port', 'abc'])).toThrow(UsageError)
    expect(() => parseClusterOptions(['--bogus'])).toThrow(UsageError)
  })
})
