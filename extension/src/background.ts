// The service worker: routes messages, owns the context menu, keeps the offscreen document alive. No inference here
// (service workers forbid import(), and a worker that sleeps would drop the session): that lives in offscreen/.
// Every listener is registered at the top level, synchronously, so Chrome finds them when it wakes the worker.
import { codeOf, ExtensionError, ExtensionErrorCode, messageOf } from './core/errors.js';
import {
  cachePartition,
  type EngineStatus,
  type NetworkCheckResult,
  parseToBackground,
  SCAN_CHANNEL,
  type ScanRequest,
  type ScanResult,
  type ToOffscreen,
} from './core/messages.js';
import type { DownloadProgress } from './core/network/download.js';
import { alarmPlan, checkDue, NETWORK_ALARM, type NetworkState, networkModelInUse } from './core/network/state.js';
import { makeReceipt, type ReportInput } from './core/reports.js';
import type { VideoSampling } from './core/video.js';
import {
  addReport,
  captureVisibleTab,
  createContextMenu,
  ensureOffscreenDocument,
  fromExtensionPage,
  getNetworkState,
  getSettings,
  type MenuClick,
  onAlarm,
  onContextMenuClick,
  onInstalledOrStartup,
  onSettingsChanged,
  patchNetworkState,
  setAlarm,
  offscreenGone,
  onChannelRequest,
  onMessage,
  type Sender,
  sendToExtension,
  sendToTab,
  type TabInfo,
} from './platform.js';

export const MENU_ID = 'veracity-check';
const OFFSCREEN_PATH = 'src/offscreen/index.html';

onInstalledOrStartup(() => {
  createContextMenu(MENU_ID, 'Check with Veracity');
  void syncNetworkSchedule(true);
});
// The network model: an alarm while it is on (and a check when one is due on start-up); nothing while it is off.
onAlarm(NETWORK_ALARM, () => void networkCheck());
onSettingsChanged(() => void syncNetworkSchedule(false));
onContextMenuClick((click, tab) => void checkFromContextMenu(click, tab).catch((e: unknown) => console.warn('[veracity]', e)));
onMessage((message, sender) => {
  // Messages for the offscreen document are broadcast to every extension page; they are not ours to answer.
  if (typeof message === 'object' && message !== null && 'target' in message) return undefined;
  // The popup talks to content scripts directly; anything else unknown is refused with a code.
  return route(message, sender);
});
// Content scripts send their scans over a port (one per tab): the same routes, a cheaper message for the page.
onChannelRequest(SCAN_CHANNEL, route);

async function route(raw: unknown, sender: Sender): Promise<unknown> {
  const message = parseToBackground(raw);
  switch (message.type) {
    case 'scan':
      return scan(message.request, sender);
    case 'report':
      return report(message.report, sender);
    case 'engine-status':
      return toOffscreen<EngineStatus>({ target: 'offscreen', type: 'status' });
    case 'video-sampling':
      return videoSampling();
    case 'settings-changed':
      return null;
    // Only the extension's own pages (options, offscreen document), never a content script beside a web page.
    case 'network-check':
      if (!fromExtensionPage(sender))
        throw new ExtensionError(ExtensionErrorCode.MessageInvalid, 'web pages cannot start a network check');
      return networkCheck();
    case 'network-progress':
      if (!fromExtensionPage(sender))
        throw new ExtensionError(ExtensionErrorCode.MessageInvalid, 'progress comes from the offscreen document');
      return networkProgress(message.progress);
  }
}

/** The alarm follows the setting; `startup`: also check now when a check is due (the browser was closed a while). */
async function syncNetworkSchedule(startup: boolean): Promise<void> {
  const settings = await getSettings();
  await setAlarm(NETWORK_ALARM, alarmPlan(settings));
  if (startup && settings.networkModel && checkDue(await getNetworkState(), Date.now())) await networkCheck();
}

let checking: Promise<NetworkState> | null = null;

/**
 * One network check at a time (an alarm and a click share it): the offscreen document reads the chain, and when it
 * names a bundle other than the one in use, downloads, verifies, self-tests and switches to it. Whatever fails, the
 * bundle in use stays and the error is kept for the options page.
 */
function networkCheck(): Promise<NetworkState> {
  checking ??= (async () => {
    const settings = await getSettings();
    const state = await getNetworkState();
    if (!settings.networkModel) return state;
    await patchNetworkState({ checking: { since: Date.now(), progress: null } });
    try {
      const r = await toOffscreen<NetworkCheckResult>({
        target: 'offscreen',
        type: 'network-check',
        endpoint: settings.chainEndpoint,
        netuid: settings.netuid,
        backend: settings.backend,
        active: networkModelInUse(settings, state),
      });
      return await patchNetworkState({
        active: r.ref,
        lastCheck: Date.now(),
        lastOutcome: r.outcome,
        lastError: null,
        checking: null,
      });
    } catch (e) {
      const at = Date.now();
      return await patchNetworkState({
        lastCheck: at,
        lastOutcome: 'failed',
        lastError: { code: codeOf(e), message: messageOf(e), at },
        checking: null,
      });
    }
  })().finally(() => {
    checking = null;
  });
  return checking;
}

async function networkProgress(progress: DownloadProgress): Promise<null> {
  const state = await getNetworkState();
  if (state.checking) await patchNetworkState({ checking: { ...state.checking, progress } });
  return null;
}

async function scan(request: ScanRequest, sender: Sender): Promise<ScanResult> {
  let req = request;
  if (request.source.type === 'capture') {
    // A tainted video frame: the page cannot read it, the extension can read the screen it is shown on.
    if (sender.windowId === undefined) throw new ExtensionError(ExtensionErrorCode.NoTarget, 'a capture needs a tab');
    const dataUrl = await captureVisibleTab(sender.windowId);
    req = { ...request, source: { type: 'screenshot', dataUrl, rect: request.source.rect, dpr: request.source.dpr } };
  }
  const [settings, network] = await Promise.all([getSettings(), getNetworkState()]);
  return toOffscreen<ScanResult>({
    target: 'offscreen',
    type: 'classify',
    request: req,
    backend: settings.backend,
    network: networkModelInUse(settings, network),
    // From the browser's record of the sender's tab, not from the message: a page cannot pick another site's cache.
    partition: cachePartition(sender.tabUrl ?? sender.url),
  });
}

/** How the bundle a scan would use now samples and judges video: asked of the same detector as scan() picks. */
async function videoSampling(): Promise<VideoSampling> {
  const [settings, network] = await Promise.all([getSettings(), getNetworkState()]);
  return toOffscreen<VideoSampling>({
    target: 'offscreen',
    type: 'video-sampling',
    backend: settings.backend,
    network: networkModelInUse(settings, network),
  });
}

/** "Report a wrong verdict": the receipt is saved on this device (the popup exports it); nothing is sent anywhere. */
async function report(input: ReportInput, sender: Sender): Promise<{ saved: number }> {
  if (sender.tabId === undefined) throw new ExtensionError(ExtensionErrorCode.NoTarget, 'a report comes from a tab');
  let site = '';
  try {
    site = new URL(sender.tabUrl ?? sender.url ?? '').hostname;
  } catch {
    // An unknown page: the receipt says so with an empty site.
  }
  return { saved: await addReport(makeReceipt(input, site, Date.now())) };
}

/** Sends to the offscreen document, creating it first; once more if it had gone away meanwhile. */
async function toOffscreen<T>(message: ToOffscreen): Promise<T> {
  await ensureOffscreenDocument(OFFSCREEN_PATH);
  try {
    return await sendToExtension<T>(message);
  } catch (e) {
    if (codeOf(e) !== ExtensionErrorCode.NoTarget) throw e;
    offscreenGone();
    await ensureOffscreenDocument(OFFSCREEN_PATH);
    return sendToExtension<T>(message);
  }
}

/**
 * "Check with Veracity": asks the tab's content script to score the clicked media and badge it, whether or not
 * auto-scan is on for the site. One function, so tests (which cannot click a native menu) drive the same path.
 */
export async function checkFromContextMenu(click: MenuClick, tab: TabInfo | null): Promise<unknown> {
  if (click.menuItemId !== MENU_ID) return null;
  if (!tab) throw new ExtensionError(ExtensionErrorCode.NoTarget, 'the menu was used outside a tab');
  if (!click.srcUrl) throw new ExtensionError(ExtensionErrorCode.NoTarget, 'the menu was used on something without a source URL');
  return sendToTab(tab.id, { type: 'check', srcUrl: click.srcUrl });
}

// Test and benchmark hook: the e2e suite calls this through the service worker to stand in for a native menu click.
(globalThis as { veracity?: unknown }).veracity = { checkFromContextMenu, MENU_ID };
