// Options: sensitivity threshold, backend preference, per-site lists, whether real-looking items get a badge.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { codeOf, messageOf } from '../core/errors.js';
import type { EngineStatus } from '../core/messages.js';
import { describeNetworkState, EMPTY_NETWORK_STATE, type NetworkState } from '../core/network/state.js';
import { BACKEND_PREFERENCES, type BackendPreference, type Settings } from '../core/settings.js';
import { describeThreshold, thresholdInForce } from '../core/verdict.js';
import { useModelInUse } from '../model-in-use.js';
import { getNetworkState, getSettings, onNetworkStateChanged, sendToExtension, updateSettings } from '../platform.js';

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The network model (opt-in): the chain to read, the subnet, a check on demand, and the state in plain words. Turning
 * it on (or saving another chain) checks at once; the service worker then checks every hour.
 */
function NetworkModel({ settings, save }: { settings: Settings; save: (patch: Partial<Settings>) => Promise<boolean> }) {
  const [state, setState] = useState<NetworkState>({ ...EMPTY_NETWORK_STATE });
  const [endpoint, setEndpoint] = useState(settings.chainEndpoint);
  const [netuid, setNetuid] = useState(String(settings.netuid));
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    void getNetworkState().then(setState);
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    const off = onNetworkStateChanged((s) => {
      setState(s);
      setNow(Date.now());
    });
    return () => {
      off();
      clearInterval(timer);
    };
  }, []);
  // The outcome arrives as a state change; a refusal of the request itself would show in the state's absence.
  const check = () => void sendToExtension({ type: 'network-check' }).catch((e: unknown) => console.warn('[veracity]', e));
  const saveChain = async () => {
    if (await save({ chainEndpoint: endpoint, netuid: Number(netuid) })) if (settings.networkModel) check();
  };
  return (
    <fieldset>
      <legend>Network model</legend>
      <label class="switch">
        <span>Use the network's best model (off: the model bundled with the extension)</span>
        <input
          type="checkbox"
          data-testid="network-model"
          checked={settings.networkModel}
          onChange={(e) => {
            const on = (e.target as HTMLInputElement).checked;
            void save({ networkModel: on, chainEndpoint: endpoint, netuid: Number(netuid) }).then((saved) => {
              if (saved && on) check();
            });
          }}
        />
      </label>
      <div class="muted">
        When on, Veracity reads the subnet's ranking from the chain below and downloads the bundle published by the miner with the
        highest incentive; it switches only after checking the bundle's sha256 against the chain, its manifest, and a self-test.
        Only the chain reads and the bundle download leave your browser; your images never do.
      </div>
      <label>
        Chain endpoint (ws:// or wss://)
        <input data-testid="chain-endpoint" value={endpoint} onInput={(e) => setEndpoint((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Subnet (netuid)
        <input
          data-testid="netuid"
          inputMode="numeric"
          value={netuid}
          onInput={(e) => setNetuid((e.target as HTMLInputElement).value)}
        />
      </label>
      <button data-testid="save-chain" onClick={() => void saveChain()}>
        Save chain
      </button>{' '}
      <button
        data-testid="check-now"
        disabled={!settings.networkModel || (state.checking !== null && now - state.checking.since < 600_000)}
        onClick={check}
      >
        Check now
      </button>
      <ul class="muted" data-testid="network-state">
        {describeNetworkState(settings, state, now).map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </fieldset>
  );
}

/**
 * The threshold in force and where it comes from: the model's operating point until the user moves the slider, then
 * theirs, with one click back. The amber "unsure" band is the 15 points below whichever is in force.
 */
function Threshold({ settings, save }: { settings: Settings; save: (patch: Partial<Settings>) => Promise<boolean> }) {
  const model = useModelInUse(settings);
  const inForce = thresholdInForce(settings.threshold, model ?? undefined);
  const percent = Math.round(inForce.value * 100);
  return (
    <>
      <label>
        Flag as AI when P(AI) is at least <b data-testid="threshold-value">{percent}%</b>{' '}
        <span class="muted" data-testid="threshold-source">
          ({describeThreshold(inForce)})
        </span>
        <br />
        <input
          type="range"
          min={5}
          max={95}
          step={1}
          data-testid="threshold"
          value={percent}
          onChange={(e) => void save({ threshold: Number((e.target as HTMLInputElement).value) / 100 })}
        />
      </label>
      {settings.threshold !== null ? (
        <button data-testid="threshold-model" onClick={() => void save({ threshold: null })}>
          Use the model's operating point
        </button>
      ) : null}
      <div class="muted">
        Lower flags more (more false alarms); higher flags less (more misses). The model's operating point is chosen with the
        model so that it flags few of the real photos it was validated on, at the cost of catching fewer AI images.
      </div>
    </>
  );
}

function Options() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [allow, setAllow] = useState('');
  const [block, setBlock] = useState('');
  const [message, setMessage] = useState('');
  const [engine, setEngine] = useState<EngineStatus | null>(null);

  useEffect(() => {
    void getSettings().then((s) => {
      setSettings(s);
      setAllow(s.allowSites.join('\n'));
      setBlock(s.blockSites.join('\n'));
    });
    void sendToExtension<EngineStatus>({ type: 'engine-status' })
      .then(setEngine)
      .catch(() => undefined);
  }, []);

  if (!settings) return null;
  const save = async (patch: Partial<Settings>): Promise<boolean> => {
    try {
      const next = await updateSettings(patch);
      setSettings(next);
      setMessage('Saved.');
      return true;
    } catch (e) {
      setMessage(`${codeOf(e)}: ${messageOf(e)}`);
      return false;
    }
  };

  return (
    <main>
      <h1>Veracity options</h1>
      <fieldset>
        <legend>Sensitivity</legend>
        <Threshold settings={settings} save={save} />
        <label class="switch">
          <span>Badge items that look real too</span>
          <input
            type="checkbox"
            data-testid="badge-real"
            checked={settings.badgeReal}
            onChange={(e) => void save({ badgeReal: (e.target as HTMLInputElement).checked })}
          />
        </label>
        <label class="switch">
          <span>Scan every site (unless blocked below)</span>
          <input
            type="checkbox"
            data-testid="enabled"
            checked={settings.enabled}
            onChange={(e) => void save({ enabled: (e.target as HTMLInputElement).checked })}
          />
        </label>
      </fieldset>
      <fieldset>
        <legend>Backend</legend>
        <select
          data-testid="backend"
          value={settings.backend}
          onChange={(e) => void save({ backend: (e.target as HTMLSelectElement).value as BackendPreference })}
        >
          {BACKEND_PREFERENCES.map((b) => (
            <option key={b} value={b}>
              {b === 'auto'
                ? 'auto (WebGPU on a real GPU, else WASM)'
                : b === 'webgpu'
                  ? 'WebGPU (falls back to WASM)'
                  : 'WASM (CPU)'}
            </option>
          ))}
        </select>
        <div class="muted" data-testid="engine">
          {engine
            ? `engine: ${engine.state}${engine.backend ? ` on ${engine.backend}` : ''}${engine.error ? ` — ${engine.error}` : ''}` +
              (engine.fallbacks?.length ? ` (${engine.fallbacks.join('; ')})` : '')
            : ''}
        </div>
      </fieldset>
      <fieldset>
        <legend>Sites</legend>
        <label>
          Always scan (one hostname per line; covers subdomains)
          <textarea data-testid="allow" value={allow} onInput={(e) => setAllow((e.target as HTMLTextAreaElement).value)} />
        </label>
        <label>
          Never scan
          <textarea data-testid="block" value={block} onInput={(e) => setBlock((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button data-testid="save-sites" onClick={() => void save({ allowSites: lines(allow), blockSites: lines(block) })}>
          Save sites
        </button>
      </fieldset>
      <NetworkModel settings={settings} save={save} />
      <div data-testid="message" class={message.startsWith('E_') ? 'error' : 'muted'}>
        {message}
      </div>
    </main>
  );
}

render(<Options />, document.getElementById('app')!);
