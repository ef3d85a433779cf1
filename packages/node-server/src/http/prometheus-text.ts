/**
 * Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples.
 */
export interface Metric {
  name: string
  help: string
  type: 'counter' | 'gauge'
  value: number
  labels?: Record<string, string>
}

export function prometheusText(metrics: Metric[]): string {
  const lines: string[] = []
  const described = new Set<string>()
  for (const m of metrics) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m.name)) throw new Error(`invalid metric name ${m.name}`)
    if (!described.has(m.name)) {
      described.add(m.name)
      lines.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
      lines.push(`# TYPE ${m.name} ${m.type}`)
    }
    const labels = m.labels ? Object.entries(m.labels).map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (c) => '\\' + c).replace(/\n/g, '\\n')}"`) : []
    const value = Number.isFinite(m.value) ? String(m.value) : m.value > 0 ? '+Inf' : m.value < 0 ? '-Inf' : 'NaN'
    lines.push(`${m.name}${labels.length ? `{${labels.join(',')}}` : ''} ${value}`)
  }
  return lines.join('\n') + '\n'
}
