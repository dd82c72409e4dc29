import { useEffect, useState } from 'preact/hooks';
import type { Controller, View } from '../controller.js';
import { formatWeight, WEIGHT_MEANING } from '@veracity/protocol';
import type { Explained } from '../core/errors.js';

const fmtMs = (ms: number | undefined) =>
  ms === undefined ? '–' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-6)}`;

function ProblemBox({ p }: { p: Explained }) {
  return (
    <div class="problem" role="alert" data-code={p.code}>
      <strong>{p.title}</strong> <span>{p.action}</span>
      {p.detail && <div class="detail">{p.detail}</div>}
    </div>
  );
}

function Identity({ c, v }: { c: Controller; v: View }) {
  const id = v.identity;
  const [uri, setUri] = useState(v.config.devAccount ?? '');
  const chain = v.chain;
  return (
    <section>
      <h2>Identity</h2>
      {id.status === 'detecting' && <p>Looking for a wallet extension…</p>}
      {id.status === 'choose' && (
        <label>
          Hotkey{' '}
          <select
            data-testid="account-select"
            value={id.account?.address ?? ''}
            onChange={(e) => {
              const a = id.accounts.find((x) => x.address === e.currentTarget.value);
              if (a) void c.chooseAccount(a);
            }}
          >
            <option value="">choose an account…</option>
            {id.accounts.map((a) => (
              <option value={a.address}>
                {a.name ?? 'account'} ({short(a.address)}, {a.source})
              </option>
            ))}
          </select>
        </label>
      )}
      {id.status === 'none' && (
        <>
          {id.problem &&
            (id.problem.code === 'E_NO_WALLET' && v.config.devAccount ? (
              // The path `npm start` sets up: no wallet is expected, the dev account below is registered for this page.
              <p class="note" data-testid="dev-account-note">
                No wallet extension in this browser; this local subnet registered the development account below for this page:
                click <b>Use development account</b> to mine with it.
              </p>
            ) : (
              <ProblemBox p={id.problem} />
            ))}
          <form
            class="dev"
            onSubmit={(e) => {
              e.preventDefault();
              if (uri.trim()) void c.useDevAccount(uri);
            }}
          >
            <p>
              <strong>Local development account.</strong> For local test networks only: the secret URI or mnemonic stays in this
              tab's memory and is forgotten on reload. Never type a real key here.
            </p>
            {/* Plain text: a development URI such as //Miner2 is public, and hiding it only made the prefill a mystery. */}
            <label>
              Secret URI or mnemonic{' '}
              <input
                type="text"
                data-testid="dev-uri"
                autocomplete="off"
                spellcheck={false}
                placeholder="//Miner1 or a mnemonic"
                value={uri}
                onInput={(e) => setUri(e.currentTarget.value)}
              />
            </label>
            <button type="submit">Use development account</button>
          </form>
        </>
      )}
      {id.account && (
        <p data-testid="identity">
          {id.account.source === 'dev' ? (
            <span class="badge dev">DEVELOPMENT ACCOUNT</span>
          ) : (
            <span class="badge">wallet: {id.account.source}</span>
          )}{' '}
          <code title={id.account.address}>{id.account.address}</code>
        </p>
      )}
      {id.account && (
        <p data-testid="registration">
          {chain.status === 'connecting' && (
            <>
              Checking subnet {v.config.netuid} on {v.config.chain}…
            </>
          )}
          {chain.status === 'ok' && chain.info?.registered && (
            <>
              <span class="ok">Registered</span> on subnet {v.config.netuid} as uid <b data-testid="uid">{chain.info.uid}</b>{' '}
              (block {chain.info.block})
            </>
          )}
          {chain.status === 'ok' && chain.info && !chain.info.registered && (
            <span class="bad">Not registered on subnet {v.config.netuid}: validators will refuse this hotkey.</span>
          )}
          {chain.status === 'error' && chain.problem && <ProblemBox p={chain.problem} />}
        </p>
      )}
    </section>
  );
}

function Model({ v, c }: { v: View; c: Controller }) {
  const m = v.model;
  // What the user types stays theirs until Load; the view re-renders on every block.
  const [bundleUrl, setBundleUrl] = useState(v.config.bundle);
  const last = m.progress.at(-1);
  const download = [...m.progress].reverse().find((p) => p.stage === 'download');
  const stages = ['download', 'verify', 'compile', 'warmup', 'ready'] as const;
  const reached = new Set(m.progress.map((p) => p.stage));
  const fraction =
    m.status === 'ready'
      ? 1
      : Math.max(
          download?.total ? (0.6 * (download.loaded ?? 0)) / download.total : 0,
          reached.has('verify') ? 0.65 : 0,
          reached.has('compile') ? 0.75 : 0,
          reached.has('warmup') ? 0.9 : 0,
        );
  const backend = m.loaded?.backend;
  return (
    <section>
      <h2>Model</h2>
      <form
        class="bundle"
        onSubmit={(ev) => {
          ev.preventDefault();
          void c.loadModel(bundleUrl);
        }}
      >
        <label>
          Bundle URL{' '}
          <input
            type="text"
            data-testid="bundle-url"
            size={40}
            spellcheck={false}
            value={bundleUrl}
            onInput={(e) => setBundleUrl(e.currentTarget.value)}
            disabled={m.status === 'loading'}
          />
        </label>{' '}
        <button type="submit" data-testid="bundle-load" disabled={m.status === 'loading'}>
          Load
        </button>
      </form>
      <progress data-testid="model-progress" max={1} value={fraction} />
      <ol class="stages">
        {stages.map((s) => (
          <li class={reached.has(s) || (s === 'ready' && m.status === 'ready') ? 'done' : ''}>{s}</li>
        ))}
      </ol>
      {m.status === 'loading' && last && (
        <p>
          {last.stage}
          {last.backend ? ` (${last.backend})` : ''}
          {last.stage === 'download' && last.total
            ? ` ${((last.loaded ?? 0) / 1e6).toFixed(1)} / ${(last.total / 1e6).toFixed(1)} MB`
            : ''}
        </p>
      )}
      {m.status === 'ready' && m.loaded && backend && (
        <p data-testid="backend">
          {m.loaded.model.name} {m.loaded.model.version}, bundle{' '}
          <code data-testid="bundle-id" title={`sha256 of manifest.json: ${m.loaded.model.sha256}, from ${m.loaded.model.url}`}>
            {m.loaded.model.sha256.slice(0, 12)}
          </code>{' '}
          on <b data-testid="backend-name">{backend.name}</b>
          {backend.adapter &&
            ` — adapter ${[backend.adapter.vendor, backend.adapter.architecture, backend.adapter.description].filter(Boolean).join(' ') || 'unnamed'}${
              backend.adapter.isFallbackAdapter ? ' (software fallback: slow)' : ''
            }`}
          {backend.threads !== undefined && ` — ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`}
          {backend.fallbacks?.map((f) => (
            <div class="detail">
              {f.name} unavailable: {f.error}
            </div>
          ))}
        </p>
      )}
      {m.status === 'error' && m.problem && (
        <div data-testid="model-problem">
          <ProblemBox p={m.problem} />
          <button onClick={() => void c.loadModel()}>Reload the model</button>
        </div>
      )}
    </section>
  );
}

function Chart({ series, p50, p95 }: { series: number[]; p50?: number; p95?: number }) {
  const w = 240;
  const h = 60;
  const max = Math.max(1, ...series, p95 ?? 0);
  const y = (ms: number) => h - 2 - (ms / max) * (h - 4);
  const pts = series.map((ms, i) => `${(i / Math.max(1, series.length - 1)) * w},${y(ms)}`).join(' ');
  return (
    <svg class="chart" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label="answer latency, last 60 challenges">
      {p95 !== undefined && <line x1={0} x2={w} y1={y(p95)} y2={y(p95)} class="p95" />}
      {p50 !== undefined && <line x1={0} x2={w} y1={y(p50)} y2={y(p50)} class="p50" />}
      {series.length > 1 && <polyline points={pts} />}
    </svg>
  );
}

/**
 * The label audit: validators send a hash of each challenge's label with the challenge and reveal the label later;
 * this page checks every reveal against the hash it received, so a validator cannot relabel after the fact unseen.
 */
function Audit({ v }: { v: View }) {
  const rows = v.mining.validators;
  const total = rows.reduce(
    (t, x) => ({
      revealed: t.revealed + x.audit.revealed,
      verified: t.verified + x.audit.verified,
      mismatched: t.mismatched + x.audit.mismatched,
      pending: t.pending + x.audit.pending,
    }),
    { revealed: 0, verified: 0, mismatched: 0, pending: 0 },
  );
  return (
    <>
      <h3>Label audit</h3>
      <p class="detail">
        Labels are never sent with a challenge: the validator commits to each one (a sha256 hash) and reveals it after its scoring
        window. This page checks every reveal against the commitment it received.
      </p>
      <p data-testid="audit" data-revealed={total.revealed} data-verified={total.verified} data-mismatched={total.mismatched}>
        <b data-testid="audit-revealed">{total.revealed}</b> revealed, <b data-testid="audit-verified">{total.verified}</b>{' '}
        verified,{' '}
        <b data-testid="audit-mismatched" class={total.mismatched > 0 ? 'bad' : ''}>
          {total.mismatched}
        </b>{' '}
        mismatched, {total.pending} awaiting reveal
      </p>
      {total.mismatched > 0 && (
        <div class="problem" role="alert" data-code="E_REVEAL_MISMATCH">
          <strong>
            {rows
              .filter((x) => x.audit.mismatched > 0)
              .map((x) => x.url)
              .join(', ')}{' '}
            revealed labels that do not match their commitments.
          </strong>{' '}
          <span>That validator may be scoring dishonestly: consider mining for others.</span>
        </div>
      )}
    </>
  );
}

function Mining({ v, c }: { v: View; c: Controller }) {
  const m = v.mining;
  const canStart = v.model.status === 'ready' && v.identity.status === 'ready' && !m.running;
  // A disabled button says why: what is still missing before mining can start.
  const waitingFor = [
    v.identity.status !== 'ready' &&
      (v.identity.status === 'choose' ? 'choose a hotkey above' : 'pick an identity above (Use development account)'),
    v.model.status === 'loading' && 'the model is still loading',
    v.model.status === 'error' && 'the model failed to load',
  ].filter(Boolean);
  const weights = v.chain.info?.weights ?? [];
  return (
    <section>
      <h2>Mining</h2>
      <p>
        {m.running ? (
          <button data-testid="stop" onClick={() => c.stop()}>
            Stop mining
          </button>
        ) : (
          <>
            <button data-testid="start" disabled={!canStart} onClick={() => c.start()}>
              Start mining
            </button>
            {!canStart && waitingFor.length > 0 && (
              <span class="detail" data-testid="start-hint">
                {' '}
                First: {waitingFor.join('; ')}.
              </span>
            )}
          </>
        )}{' '}
        <label>
          Cap{' '}
          <input
            data-testid="rate"
            type="number"
            min={0}
            step={1}
            value={m.maxPerMinute}
            onInput={(e) => c.setRate(Number(e.currentTarget.value) || 0)}
          />{' '}
          challenges / minute (0 = no cap)
        </label>
      </p>
      <table class="validators">
        <thead>
          <tr>
            <th>validator</th>
            <th>state</th>
            <th>uid</th>
            <th>answered</th>
          </tr>
        </thead>
        <tbody>
          {m.validators.map((x, i) => (
            <tr data-testid={`validator-${i}`} data-state={x.state}>
              <td>
                <code>{x.url}</code>
                {x.lastProblem && x.state !== 'mining' && <ProblemBox p={x.lastProblem} />}
              </td>
              <td class={`state ${x.state}`}>{x.state}</td>
              <td>{x.uid ?? '–'}</td>
              <td>{x.answered}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="stats">
        <div>
          <div class="big" data-testid="answered">
            {m.answered}
          </div>
          answered
        </div>
        <div>
          <div class="big">{m.validators.filter((x) => x.state === 'mining').length}</div>
          connected
        </div>
        <div>
          <div class="big" data-testid="p50" data-ms={m.p50}>
            {fmtMs(m.p50)}
          </div>
          p50 latency
        </div>
        <div>
          <div class="big" data-testid="p95" data-ms={m.p95}>
            {fmtMs(m.p95)}
          </div>
          p95 latency
        </div>
        <Chart
          series={m.series}
          {...(m.p50 === undefined ? {} : { p50: m.p50 })}
          {...(m.p95 === undefined ? {} : { p95: m.p95 })}
        />
      </div>
      <p class="detail">
        skipped: {m.dropped.deadline} past deadline, <span data-testid="dropped-throttle">{m.dropped.throttle}</span> over the
        cap, {m.dropped.error} failed, {m.dropped.closed} on a closed connection
      </p>
      <h3>On chain</h3>
      <p data-testid="chain-weights">
        {v.chain.info?.registered ? (
          <>
            incentive <b>{v.chain.info.incentive === undefined ? '–' : v.chain.info.incentive.toFixed(4)}</b>;{' '}
            {weights.length === 0
              ? 'no validator has set a weight for this uid yet'
              : weights.map((w) => (
                  <span data-testid="weight" title={WEIGHT_MEANING}>
                    weight (share of validator uid {w.validatorUid}'s weights): <b>{formatWeight(w.weight)}</b>{' '}
                  </span>
                ))}
          </>
        ) : (
          '–'
        )}
      </p>
      <Audit v={v} />
      <h3>Last revealed labels</h3>
      <table class="results" data-testid="results">
        <thead>
          <tr>
            <th>challenge</th>
            <th>revealed label</th>
            <th>your answer</th>
          </tr>
        </thead>
        <tbody>
          {m.results.map((r) => (
            <tr>
              <td>
                <code>{r.id.slice(0, 10)}</code>
              </td>
              <td>{r.label}</td>
              <td class={r.correct === undefined ? '' : r.correct ? 'ok' : 'bad'}>
                {r.correct === undefined ? 'not answered' : r.correct ? 'correct' : 'wrong'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function App({ controller }: { controller: Controller }) {
  const [view, setView] = useState(controller.view);
  useEffect(() => controller.subscribe(() => setView(controller.view)), [controller]);
  return (
    <main>
      <h1>Veracity web miner</h1>
      <p class="sub">
        subnet {view.config.netuid} · chain <code>{view.config.chain}</code>
      </p>
      {view.configProblems.length > 0 && (
        <div class="problem" role="alert">
          <strong>Some settings were ignored:</strong>
          <ul>
            {view.configProblems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <Identity c={controller} v={view} />
      <Model c={controller} v={view} />
      <Mining c={controller} v={view} />
      {view.problems.length > 0 && (
        <section data-testid="problems">
          <h2>Recent problems</h2>
          {view.problems.map((p) => (
            <ProblemBox p={p} />
          ))}
        </section>
      )}
    </main>
  );
}
