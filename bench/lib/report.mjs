// Markdown rendering of a run.

export const fmt = (n, d = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '-'
    : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function table(rows, floor) {
  const head = [
    'workload',
    'workers',
    'ok/s',
    '% of empty',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'server CPU %',
    'peak RSS MB',
    'peak PSS MB',
    'bench CPU %',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const non2xx =
      Object.entries(r.non2xx)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || '0';
    lines.push(
      `| ${r.name}${r.round ? ` (round ${r.round})` : ''} | ${r.workers ?? '-'} | ${fmt(r.okPerSecond)} | ${r.shareOfEmptyRoute != null ? fmt(100 * r.shareOfEmptyRoute, 1) : floor ? fmt((100 * r.okPerSecond) / floor, 1) : '-'} | ${fmt(r.latencyMs.p50, 1)} | ${fmt(r.latencyMs.p99, 1)} | ${non2xx} | ${r.errors + r.timeouts} | ${fmt(r.server.cpuPercent)} | ${fmt(r.server.peakRssMb, 1)} | ${fmt(r.server.peakPssSampledMb, 1)} | ${fmt(r.server.loadGeneratorCpuPercent)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * One row per workload measured at several IAM_WORKERS counts: ok/s and p99 at each, and each count's ok/s over the
 * first count's (the scaling ratio). Empty when the run used one count.
 */
export function scalingTable(rows, counts) {
  if (counts.length < 2) return [];
  const names = [...new Set(rows.filter((r) => r.workers !== undefined).map((r) => r.name))];
  const head = [
    'workload',
    ...counts.map((c) => `ok/s (${c})`),
    ...counts.slice(1).map((c) => `x (${c} vs ${counts[0]})`),
    ...counts.map((c) => `p99 ms (${c})`),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const name of names) {
    const at = (c) => rows.find((r) => r.name === name && r.workers === c);
    const base = at(counts[0])?.okPerSecond;
    lines.push(
      `| ${name} | ${counts.map((c) => fmt(at(c)?.okPerSecond)).join(' | ')} | ${counts
        .slice(1)
        .map((c) => (base && at(c) ? fmt(at(c).okPerSecond / base, 2) : '-'))
        .join(' | ')} | ${counts.map((c) => fmt(at(c)?.latencyMs.p99, 1)).join(' | ')} |`,
    );
  }
  return ['', `Scaling with IAM_WORKERS (HTTP worker processes beside the writer):`, '', ...lines];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * With --rounds N (rows carrying `round`): one line per workload and worker count, its ok/s and p99 over the
 * rounds as median [min-max]. Empty otherwise.
 */
export function roundsTable(rows) {
  const repeated = rows.filter((r) => r.round !== undefined);
  if (repeated.length === 0) return [];
  const keys = [...new Set(repeated.map((r) => `${r.name}\u0000${r.workers}`))];
  const spread = (xs, d) => `${fmt(median(xs), d)} [${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)}]`;
  const lines = [
    '| workload | workers | rounds | ok/s median [min-max] | p99 ms median [min-max] |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const key of keys) {
    const [name, workers] = key.split('\u0000');
    const mine = repeated.filter((r) => r.name === name && String(r.workers) === workers);
    lines.push(
      `| ${name} | ${workers} | ${mine.length} | ${spread(
        mine.map((r) => r.okPerSecond),
        0,
      )} | ${spread(
        mine.map((r) => r.latencyMs.p99),
        1,
      )} |`,
    );
  }
  return ['', 'Over the rounds (each workload in turn, the same server):', '', ...lines];
}

const startRow = (label, s) =>
  `| ${label} | ${fmt(s.secondsToReady, 2)} s, RSS at ready ${fmt(s.rssAtReadyMb, 1)} MB${s.processes > 1 ? ` summed over ${s.processes} processes, PSS ${fmt(s.pssAtReadyMb, 1)} MB` : ''} (anon ${fmt(s.rssAnonAtReadyMb, 1)}, V8 heap used ${fmt(s.heapUsedAtReadyMb, 1)}), peak ${fmt(s.peakRssMb, 1)} MB |`;

/** The Markdown printed at the end of a run (the JSON file holds more). */
export function renderReport(report, file) {
  const { machine: m, seed: s, options: o } = report;
  const floor = report.workloads.find((w) => w.name === 'empty_route')?.okPerSecond;
  const d = report.distributed;
  const lines = [
    '',
    `## Arbor bench ${report.startedAt}${o.quick ? ' (quick)' : ''}`,
    '',
    `${m.cpu} x${m.cores}, ${m.totalMemoryMb} MB, node ${m.node}, load average at start ${m.loadAverageAtStart.join(' ')}; commit ${report.commit ?? '?'}`,
    `seed: ${s.orgs} orgs (depth ${s.maxDepth}, branching ${s.branching}), ${s.users} users, ${s.memberships} memberships, ${s.clients} clients = ${s.events} events in ${s.seconds.toFixed(1)}s`,
    `${o.duration}s per workload after ${o.warmup}s warm-up, ${o.connections} connections (flood ${o.floodConnections}); CPU is % of one core; bench CPU is the load generator's own` +
      (o.subtreeCache === undefined ? '' : `; server subtree cache ${o.subtreeCache} entries`),
    '',
    table(report.workloads.concat(d?.workload ? [d.workload] : []), floor),
    ...scalingTable(report.workloads, o.workers ?? [1]),
    ...roundsTable(report.workloads),
    '',
    `| start / rebuild / distributed | value |`,
    `|---|---:|`,
    startRow('cold start to ready (projects the seeded log)', report.startup.cold),
    startRow('warm start to ready (read models present)', report.startup.warm),
    ...Object.entries(report.startup.byWorkers ?? {})
      .filter(() => (o.workers ?? [1]).length > 1)
      .flatMap(([count, figures]) =>
        figures.warm
          ? [startRow(`warm start, IAM_WORKERS=${count} (${figures.warm.processes} processes)`, figures.warm)]
          : [],
      ),
    `| server peak RSS over the whole run | ${fmt(report.startup.serverPeakRssMb, 1)} MB |`,
    `| read-model rebuild | ${fmt(report.rebuild.eventsPerSecond)} events/s (${fmt(report.rebuild.events)} events in ${fmt(report.rebuild.seconds, 1)} s, peak RSS ${fmt(report.rebuild.peakRssMb, 1)} MB) |`,
  ];
  if (d?.workload) {
    const lag = d.workload.projectionLagMs;
    const cpu = d.workload.processesCpuPercent;
    lines.push(
      `| distributed projection lag (event appended -> visible in the read models) | p50 ${fmt(lag.p50, 1)} ms, p90 ${fmt(lag.p90, 1)} ms, p99 ${fmt(lag.p99, 1)} ms, max ${fmt(lag.max, 1)} ms over ${fmt(lag.events)} events${lag.notVisibleAfter10s ? `, ${lag.notVisibleAfter10s} not visible after 10 s` : ''} |`,
      `| distributed CPU during create_org_distributed | gateway ${fmt(cpu.gateway)}%, command service ${fmt(cpu.commandService)}%, projector ${fmt(cpu.projector)}% (+ PostgreSQL and Kafka) |`,
    );
  } else if (d?.skipped) lines.push(`| distributed profile | not run: ${d.skipped} |`);
  lines.push('', `wall time ${fmt(report.wallSeconds, 1)} s; results: ${file}`, '');
  return lines.join('\n');
}
