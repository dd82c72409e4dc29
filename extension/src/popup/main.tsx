// The popup: this page's summary (scanned, flagged, thumbnails of flagged items), on/off for this site, global on/off,
// and the wrong-verdict reports saved on this device (export as a JSON download, or clear).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { codeOf, messageOf } from '../core/errors.js';
import type { PageSummary } from '../core/messages.js';
import { describeModel } from '../core/network/state.js';
import { exportReports, type VerdictReceipt } from '../core/reports.js';
import { setSiteEnabled, type Settings, siteEnabled } from '../core/settings.js';
import { describeThreshold, thresholdInForce } from '../core/verdict.js';
import { useModelInUse } from '../model-in-use.js';
import {
  activeTab,
  clearReports,
  getReports,
  getSettings,
  onReportsChanged,
  openOptionsPage,
  sendToTab,
  type TabInfo,
  tabById,
  updateSettings,
} from '../platform.js';

async function targetTab(): Promise<TabInfo | null> {
  // ?tab=ID lets the popup be opened as a page (tests, screenshots) for a given tab.
  const id = Number(new URLSearchParams(location.search).get('tab'));
  return Number.isInteger(id) && id > 0 ? tabById(id) : activeTab();
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return /^https?:$/.test(u.protocol) ? u.hostname : '';
  } catch {
    return '';
  }
}

/** Saves the reports as a JSON file through the browser's download (no permission needed, nothing uploaded). */
function download(list: VerdictReceipt[]): void {
  const { name, json } = exportReports(list, Date.now());
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Reports() {
  const [reports, setReports] = useState<VerdictReceipt[]>([]);
  useEffect(() => {
    const load = () => void getReports().then(setReports);
    load();
    return onReportsChanged(load);
  }, []);
  return (
    <div class="muted" data-testid="reports">
      {reports.length === 0 ? (
        'No wrong-verdict reports saved (hover a badge: “Report a wrong verdict”).'
      ) : (
        <>
          {reports.length} wrong-verdict report{reports.length === 1 ? '' : 's'} saved on this device.{' '}
          <button data-testid="export-reports" onClick={() => download(reports)}>
            Export JSON
          </button>{' '}
          <button data-testid="clear-reports" onClick={() => void clearReports()}>
            Clear
          </button>
        </>
      )}
    </div>
  );
}

/**
 * The model in use (the network bundle with its miner uid and incentive while the network model is on, else the
 * bundled one) and the threshold its verdicts use now: the user's, or the model's operating point.
 */
function ModelLine({ settings }: { settings: Settings }) {
  const model = useModelInUse(settings);
  const text = model ? describeModel(model) : 'bundled model';
  return (
    <>
      <div class="muted" data-testid="model">
        Model: {text}
      </div>
      <div class="muted" data-testid="threshold-in-force">
        Flags at P(AI) ≥ {describeThreshold(thresholdInForce(settings.threshold, model ?? undefined))}
      </div>
    </>
  );
}

function Popup() {
  const [tab, setTab] = useState<TabInfo | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [summary, setSummary] = useState<PageSummary | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    void (async () => {
      const t = await targetTab();
      setTab(t);
      setSettings(await getSettings());
      if (!t) return;
      // Live while open: scanning goes on behind the popup.
      const refresh = () =>
        sendToTab<PageSummary>(t.id, { type: 'summary' })
          .then(setSummary)
          .catch(() => setSummary(null));
      await refresh();
      timer = setInterval(refresh, 1000);
    })();
    return () => clearInterval(timer);
  }, []);

  const host = tab ? hostOf(tab.url) : '';
  const save = async (patch: Partial<Settings>) => {
    try {
      setSettings(await updateSettings(patch));
      setError('');
    } catch (e) {
      setError(`${codeOf(e)}: ${messageOf(e)}`);
    }
  };

  return (
    <main>
      <h1>
        <span style={{ color: '#d93025' }}>◆</span> Veracity
      </h1>
      {summary ? (
        <>
          <div class="muted">{summary.host}</div>
          <div class="stats">
            <div class="stat" data-testid="scanned">
              <b>{summary.scanned}</b>scanned
            </div>
            <div class="stat" data-testid="flagged">
              <b>{summary.flagged.length}</b>flagged as AI
            </div>
          </div>
          {summary.flagged.length > 0 ? (
            <div class="flagged">
              {summary.flagged.slice(0, 16).map((f) => (
                <figure key={f.key} title={`${f.key}\nP(AI) ${(f.ai * 100).toFixed(1)}%`}>
                  {f.thumb ? <img src={f.thumb} alt="" /> : <img alt="" />}
                  <figcaption>{Math.round(f.ai * 100)}%</figcaption>
                </figure>
              ))}
            </div>
          ) : (
            <div class="muted">Nothing flagged on this page.</div>
          )}
          {summary.needsLogin > 0 ? (
            <div class="muted" data-testid="needs-login">
              {summary.needsLogin} image{summary.needsLogin === 1 ? '' : 's'} not checked:{' '}
              {summary.needsLogin === 1 ? 'its' : 'their'} server sends {summary.needsLogin === 1 ? 'it' : 'them'} only with your
              login, and Veracity does not fetch as you.
            </div>
          ) : null}
          {summary.experimental > 0 ? (
            <div class="muted" data-testid="experimental">
              {summary.experimental} video{summary.experimental === 1 ? '' : 's'} scored but not judged: video detection is
              experimental for this model (grey “?” badges; hover one for its test result).
            </div>
          ) : null}
        </>
      ) : (
        <div class="muted">
          {host ? 'This page has not been scanned (reload it after installing).' : 'Nothing to scan on this page.'}
        </div>
      )}
      {settings ? (
        <div style={{ marginTop: '10px' }}>
          {host ? (
            <label class="switch">
              <span>Scan {host}</span>
              <input
                type="checkbox"
                data-testid="site-toggle"
                checked={siteEnabled(settings, host)}
                onChange={(e) => void save(setSiteEnabled(settings, host, (e.target as HTMLInputElement).checked))}
              />
            </label>
          ) : null}
          <label class="switch">
            <span>Scan every site</span>
            <input
              type="checkbox"
              data-testid="global-toggle"
              checked={settings.enabled}
              onChange={(e) => void save({ enabled: (e.target as HTMLInputElement).checked })}
            />
          </label>
        </div>
      ) : null}
      {error ? <div class="error">{error}</div> : null}
      {settings ? <ModelLine settings={settings} /> : null}
      <Reports />
      <p class="muted">
        Everything runs on this device; no image, video or result leaves your browser.{' '}
        <a href="#" onClick={() => void openOptionsPage()}>
          Options
        </a>
      </p>
    </main>
  );
}

render(<Popup />, document.getElementById('app')!);
