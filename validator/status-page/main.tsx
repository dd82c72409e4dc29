import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { StatusSnapshot } from '../src/status/types.js';

const COLOURS = ['#2e90fa', '#f79009', '#12b76a', '#9e77ed', '#f04438', '#0ba5ec', '#ee46bc', '#667085'];
const short = (k: string) => (k.length > 14 ? `${k.slice(0, 6)}…${k.slice(-6)}` : k);
const pct = (v: number | null) => (v === null ? '–' : v.toFixed(3));

/** Weights over time, one line per miner: the picture a validator operator checks first. */
function WeightsChart({ history }: { history: StatusSnapshot['weights'] }) {
  const set = history.filter((h) => h.status !== 'failed');
  if (set.length === 0) return <p class="muted">No weights computed yet.</p>;
  const keys = [...new Set(set.flatMap((h) => Object.keys(h.weights)))].sort();
  const W = 640;
  const H = 180;
  const P = 28;
  const t0 = set[0]!.at;
  const t1 = Math.max(set[set.length - 1]!.at, t0 + 1);
  const x = (t: number) => P + ((t - t0) / (t1 - t0)) * (W - 2 * P);
  const y = (w: number) => H - P - w * (H - 2 * P);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="weights over time">
      <line x1={P} y1={y(0)} x2={W - P} y2={y(0)} stroke="#d0d5dd" />
      <line x1={P} y1={y(1)} x2={W - P} y2={y(1)} stroke="#eaecf0" />
      <text x={2} y={y(0) + 4}>
        0
      </text>
      <text x={2} y={y(1) + 4}>
        1
      </text>
      {keys.map((k, i) => (
        <g key={k}>
          <polyline
            fill="none"
            stroke={COLOURS[i % COLOURS.length]}
            stroke-width="2"
            points={set.map((h) => `${x(h.at).toFixed(1)},${y(h.weights[k] ?? 0).toFixed(1)}`).join(' ')}
          />
          <text x={W - P + 2} y={y(set[set.length - 1]!.weights[k] ?? 0) + 4} fill={COLOURS[i % COLOURS.length]}>
            {short(k)}
          </text>
        </g>
      ))}
    </svg>
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
  if (!status) return <p>{error ? `Cannot reach the validator: ${error}` : 'Loading…'}</p>;
  const { validator, chain, miners } = status;
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
            <th>answers (img/vid)</th>
            <th>image sn34</th>
            <th>video sn34</th>
            <th>score</th>
            <th>weight</th>
          </tr>
        </thead>
        <tbody>
          {miners.map((m) => (
            <tr key={m.hotkey} data-hotkey={m.hotkey}>
              <td title={m.hotkey}>{short(m.hotkey)}</td>
              <td>{m.uid ?? '–'}</td>
              <td class={m.connected ? 'ok' : 'bad'}>{m.connected ? 'yes' : 'no'}</td>
              <td>
                {m.answers.image}/{m.answers.video}
              </td>
              <td>{pct(m.scores.image)}</td>
              <td>{pct(m.scores.video)}</td>
              <td class="score">{m.scores.total.toFixed(3)}</td>
              <td class="weight">{m.weight.toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="card">
        <strong>Weights over time</strong>
        <WeightsChart history={status.weights} />
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
