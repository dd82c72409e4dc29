import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { MODALITIES, MODALITY_NAMES } from '@veracity/protocol/domain';
import { formatWeight, WEIGHT_LABEL, WEIGHT_MEANING } from '@veracity/protocol/weights';
import type { StatusSnapshot } from '../src/status/types.js';
import { seriesLabel, shortHotkey, tickLabel, timeTicks } from './chart.js';
import { summariseGeneration } from './generation.js';

const COLOURS = ['#2e90fa', '#f79009', '#12b76a', '#9e77ed', '#f04438', '#0ba5ec', '#ee46bc', '#667085'];
const short = shortHotkey;
const pct = (v: number | null) => (v === null ? '–' : v.toFixed(3));

/**
 * Generated challenges (images, or clips): how full each label's queue is (a bar each), what each family made, the
 * fallback share. `pool` says what the items are made from.
 */
function GenerationCard({
  g,
  id,
  title,
  pool,
}: {
  g: Parameters<typeof summariseGeneration>[0];
  id: string;
  title: string;
  pool: string;
}) {
  const s = summariseGeneration(g);
  return (
    <div class="card" id={id}>
      <strong>{title}</strong>
      <span class="muted">
        {' '}
        round trips of {pool} through {g.families.join(', ')}; fallback to static {s.fallback}
      </span>
      {s.warning !== null && <p class="bad">{s.warning}</p>}
      <table>
        <tbody>
          {s.queues.map((q) => (
            <tr key={q.label}>
              <td>{q.label}</td>
              <td>
                <svg width="160" height="10" role="img" aria-label={`${q.label} queue ${q.ahead} of ${q.capacity}`}>
                  <rect width="160" height="10" fill="#eaecf0" />
                  <rect width={160 * q.fill} height="10" fill="#2e90fa" />
                </svg>
              </td>
              <td>
                {q.ahead}/{q.capacity} ready
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        made:{' '}
        {s.families
          .map((f) => `${f.family} ${f.made}${f.secondsEach === null ? '' : ` (${f.secondsEach.toFixed(2)} s each)`}`)
          .join(' · ')}
      </p>
    </div>
  );
}

/** Weights over time, one line per miner: the picture a validator operator checks first. */
function WeightsChart({ history, miners }: { history: StatusSnapshot['weights']; miners: StatusSnapshot['miners'] }) {
  const set = history.filter((h) => h.status !== 'failed');
  if (set.length === 0) return <p class="muted">No weights computed yet.</p>;
  const keys = [...new Set(set.flatMap((h) => Object.keys(h.weights)))].sort(
    (a, b) => Number(a) - Number(b) || a.localeCompare(b),
  );
  const W = 640;
  const H = 200;
  const P = 34;
  const t0 = set[0]!.at;
  const t1 = Math.max(set[set.length - 1]!.at, t0 + 1);
  const x = (t: number) => P + ((t - t0) / (t1 - t0)) * (W - 2 * P);
  const y = (w: number) => H - P - w * (H - 2 * P);
  const ticks = timeTicks(t0, t1);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 60_000;
  return (
    <>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`${WEIGHT_LABEL} per miner over time`}>
        <line x1={P} y1={y(0)} x2={W - P} y2={y(0)} stroke="#d0d5dd" />
        <line x1={P} y1={y(1)} x2={W - P} y2={y(1)} stroke="#eaecf0" />
        <text x={2} y={y(0) + 4}>
          0
        </text>
        <text x={2} y={y(1) + 4}>
          1
        </text>
        <g class="time-axis">
          {ticks.map((t) => (
            <g key={t}>
              <line x1={x(t)} y1={y(0)} x2={x(t)} y2={y(0) + 4} stroke="#98a2b3" />
              <text x={x(t)} y={H - P + 16} text-anchor="middle">
                {tickLabel(t, step)}
              </text>
            </g>
          ))}
        </g>
        {keys.map((k, i) => (
          <polyline
            key={k}
            fill="none"
            stroke={COLOURS[i % COLOURS.length]}
            stroke-width="2"
            points={set.map((h) => `${x(h.at).toFixed(1)},${y(h.weights[k] ?? 0).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <ul class="legend" id="weights-legend">
        {keys.map((k, i) => (
          <li key={k}>
            <span class="swatch" style={{ background: COLOURS[i % COLOURS.length] }} />
            {seriesLabel(k, miners)}
          </li>
        ))}
      </ul>
      <p class="muted">
        {WEIGHT_LABEL}: {WEIGHT_MEANING}; time is this browser&apos;s clock.
      </p>
    </>
  );
}

function App() {
  const [status, setStatus] = useState<StatusSnapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const res = await fetch('./api/status', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        setStatus(await res.json());
        setError(null);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
      if (!stop) setTimeout(tick, 2000);
    };
    void tick();
    return () => void (stop = true);
  }, []);
  if (!status)
    return (
      <main>
        <h1>Veracity validator</h1>
        <p class={error ? 'bad' : 'muted'}>{error ? `Cannot reach the validator: ${error}` : 'Loading…'}</p>
      </main>
    );
  const { validator, chain } = status;
  // The leaderboard's order: highest weight first (the server sorts it; the table follows).
  const rank = new Map(status.bundles.leaderboard.map((r, i) => [r.hotkey, i]));
  const miners = [...status.miners].sort((a, b) => (rank.get(a.hotkey) ?? Infinity) - (rank.get(b.hotkey) ?? Infinity));
  const share = status.bundles.unpublishedShare;
  return (
    <main>
      <h1>Veracity validator</h1>
      <p class="muted">
        v{validator.version} · hotkey {validator.hotkey ? short(validator.hotkey) : 'none'} · netuid {validator.netuid ?? '–'} ·{' '}
        {status.rounds} rounds · up since {new Date(validator.startedAt).toLocaleTimeString()}
        {error && <span class="bad"> · refresh failed: {error}</span>}
      </p>
      <div class="card">
        <strong>Chain</strong>{' '}
        {chain.endpoint ? (
          <span id="chain-state" class={chain.connected ? 'ok' : 'bad'}>
            {chain.connected
              ? `connected, block ${chain.block}`
              : `disconnected${chain.disconnectedSince ? ` since ${new Date(chain.disconnectedSince).toLocaleTimeString()}` : ''}, reconnecting (${chain.reconnectAttempts} attempts; miners are still scored)`}{' '}
            ({chain.endpoint})
          </span>
        ) : (
          <span class="muted">not configured (scores only)</span>
        )}
        {chain.endpoint && chain.commitReveal !== null && (
          <div id="commit-reveal">
            Commit-reveal: {chain.commitReveal ? 'on' : 'off'}
            {chain.pendingCommits.map((c, i) => (
              <span key={i}>
                {' '}
                · commit {c.commitBlock === null ? 'unconfirmed' : `at block ${c.commitBlock}`}
                {c.revealFirst !== null && `, reveal in blocks ${c.revealFirst}..${c.revealLast}`}
              </span>
            ))}
            {chain.nextWeightsBlock !== null && chain.block !== null && chain.nextWeightsBlock > chain.block + 1 && (
              <span> · next weights allowed at block {chain.nextWeightsBlock}</span>
            )}
          </div>
        )}
        {chain.lastError && (
          <div id="chain-error" class="bad">
            Last chain problem ({new Date(chain.lastError.at).toLocaleTimeString()}): {chain.lastError.message}
            {chain.lastError.chainError && <span class="muted"> [{chain.lastError.chainError}]</span>}
          </div>
        )}
        {chain.lastWeights && (
          <div id="last-weights">
            Last weights: <span class={chain.lastWeights.status === 'failed' ? 'bad' : 'ok'}>{chain.lastWeights.status}</span> at{' '}
            {new Date(chain.lastWeights.at).toLocaleTimeString()}
            {chain.lastWeights.detail && ` — ${chain.lastWeights.detail}`}
          </div>
        )}
      </div>
      <table id="miners">
        <thead>
          <tr>
            <th>miner</th>
            <th>uid</th>
            <th>online</th>
            <th title="the bundle its on-chain commitment names: version and sha256">bundle</th>
            <th
              title={`published: runs the bundle it committed on chain; mismatch: declares a bundle it did not commit; unpublished: declares none. Mismatch and unpublished weights are multiplied by ${share}.`}
            >
              published
            </th>
            <th>answers ({MODALITY_NAMES.map((m) => MODALITIES[m].title.toLowerCase()).join('/')})</th>
            {MODALITY_NAMES.map((m) => (
              <th key={m}>{m} sn34</th>
            ))}
            <th>score</th>
            <th title={WEIGHT_MEANING}>{WEIGHT_LABEL}</th>
          </tr>
        </thead>
        <tbody>
          {miners.map((m) => (
            <tr key={m.hotkey} data-hotkey={m.hotkey}>
              <td title={m.hotkey}>{short(m.hotkey)}</td>
              <td>{m.uid ?? '–'}</td>
              <td class={m.connected ? 'ok' : 'bad'}>{m.connected ? 'yes' : 'no'}</td>
              <td
                class="bundle"
                title={m.bundle.committed ? `${m.bundle.committed.sha256}\n${m.bundle.committed.url}` : undefined}
              >
                {m.bundle.committed ? `${m.bundle.committed.version} · ${m.bundle.committed.sha256.slice(0, 8)}` : '–'}
              </td>
              <td
                class={`bundle-state ${m.bundle.state === 'published' ? 'ok' : m.bundle.state === 'mismatch' ? 'bad' : 'muted'}`}
                title={m.bundle.detail}
              >
                {m.bundle.state}
                {m.bundle.state !== 'published' && share < 1 && ` (×${share})`}
              </td>
              <td>{MODALITY_NAMES.map((k) => m.answers[k]).join('/')}</td>
              {MODALITY_NAMES.map((k) => (
                <td key={k}>{pct(m.scores[k])}</td>
              ))}
              <td class="score">{m.scores.total.toFixed(3)}</td>
              <td class="weight">
                {formatWeight(m.weight)}
                {m.copyGroup !== undefined && (
                  <span class="bad" title={`flagged as copying, in a group of ${m.copyGroup}`}>
                    {' '}
                    copy ×{m.copyGroup}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {status.copying.groups.length > 0 && (
        <div class="card" id="copying">
          <strong class="bad">
            Copying suspected ({status.copying.groups.length} {status.copying.groups.length === 1 ? 'group' : 'groups'})
          </strong>
          <span class="muted">
            {' '}
            answers agree far more than the miners' accuracies explain, with nearly the same numbers on different variants;{' '}
            {status.copying.policy === 'share'
              ? "each group earns one miner's share (the member answering first keeps its own)"
              : 'flagged only (copyPolicy "flag")'}
          </span>
          <ul>
            {status.copying.groups.map((g) => (
              <li key={g.hotkeys.join()} data-group={g.hotkeys.join(',')}>
                {g.hotkeys.map(short).join(', ')}
                {g.leader && ` (answers first: ${short(g.leader)})`} — {g.shared} shared rounds, z ≥ {g.z.toFixed(1)}, median |ΔP|
                ≤ {g.medianGap.toFixed(4)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {status.generation && (
        <GenerationCard
          g={status.generation}
          id="generation"
          title="Generated challenges"
          pool={`${status.generation.pool.photos} real photos (${status.generation.pool.kind === 'folder' ? 'private folder' : "the dataset's real images"})`}
        />
      )}
      {status.generation?.video && (
        <GenerationCard
          g={status.generation.video}
          id="generation-video"
          title="Generated video challenges"
          pool={`${status.generation.video.pool.clips} real clips (${status.generation.video.pool.kind === 'folder' ? 'private folder' : "the dataset's real clips"}), every frame`}
        />
      )}
      <div class="card">
        <strong>Weights over time</strong>
        <WeightsChart history={status.weights} miners={miners} />
      </div>
      {status.unreadable.length > 0 && (
        <div class="card">
          <strong class="bad">Unreadable dataset files ({status.unreadable.length})</strong>
          <ul>
            {status.unreadable.slice(0, 20).map((u) => (
              <li key={u.path}>
                {u.path}: {u.error}
              </li>
            ))}
          </ul>
        </div>
      )}
    </main>
  );
}

render(<App />, document.getElementById('app')!);
