// The service worker: routes messages, owns the context menu, keeps the offscreen document alive. No inference here
// (service workers forbid import(), and a worker that sleeps would drop the session): that lives in offscreen/.
// Every listener is registered at the top level, synchronously, so Chrome finds them when it wakes the worker.
import { codeOf, ExtensionError, ExtensionErrorCode } from './core/errors.js';
import {
  cachePartition,
  type EngineStatus,
  parseToBackground,
  SCAN_CHANNEL,
  type ScanRequest,
  type ScanResult,
  type ToOffscreen,
} from './core/messages.js';
import { makeReceipt, type ReportInput } from './core/reports.js';
import {
  addReport,
  captureVisibleTab,
  createContextMenu,
  ensureOffscreenDocument,
  getSettings,
  type MenuClick,
  onContextMenuClick,
  onInstalledOrStartup,
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

onInstalledOrStartup(() => createContextMenu(MENU_ID, 'Check with Veracity'));
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
    case 'settings-changed':
      return null;
  }
}

async function scan(request: ScanRequest, sender: Sender): Promise<ScanResult> {
  let req = request;
  if (request.source.type === 'capture') {
    // A tainted video frame: the page cannot read it, the extension can read the screen it is shown on.
    if (sender.windowId === undefined) throw new ExtensionError(ExtensionErrorCode.NoTarget, 'a capture needs a tab');
    const dataUrl = await captureVisibleTab(sender.windowId);
    req = { ...request, source: { type: 'screenshot', dataUrl, rect: request.source.rect, dpr: request.source.dpr } };
  }
  const settings = await getSettings();
  return toOffscreen<ScanResult>({
    target: 'offscreen',
    type: 'classify',
    request: req,
    backend: settings.backend,
    // From the browser's record of the sender's tab, not from the message: a page cannot pick another site's cache.
    partition: cachePartition(sender.tabUrl ?? sender.url),
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
