// The only module that touches chrome.*: every other part of the extension goes through these functions, so the
// extension's use of browser APIs is listed in one place and the rest stays plain TypeScript.
import { codeOf, messageOf } from './core/errors.js';
import { fail, ok, type Reply, replyError } from './core/messages.js';
import { isReplyEnvelope, isRequestEnvelope, PendingRequests } from './core/requests.js';
import { appendReport, readReports, type VerdictReceipt } from './core/reports.js';
import { type NetworkState, readNetworkState } from './core/network/state.js';
import { readSettings, type Settings, storedSettings, validatePatch } from './core/settings.js';

const SETTINGS_KEY = 'settings';
const REPORTS_KEY = 'reports';
const NETWORK_KEY = 'network';

export function extensionUrl(path: string): string {
  return chrome.runtime.getURL(path);
}

// Settings (chrome.storage.local: survives restarts, shared by every part of the extension).

export async function getSettings(): Promise<Settings> {
  const stored = await chrome.storage.local.get(SETTINGS_KEY);
  return readSettings(stored[SETTINGS_KEY]);
}

let settingsWrites: Promise<unknown> = Promise.resolve();

/**
 * Validates and merges a partial update (E_SETTINGS_INVALID on a bad field), returning the settings now stored.
 * Updates from one page run one after another: each reads, merges and writes, and two interleaved (a checkbox and a
 * slider changed in quick succession) would otherwise lose the first one's change.
 */
export function updateSettings(patch: unknown): Promise<Settings> {
  const update = settingsWrites.then(async () => {
    const next = { ...(await getSettings()), ...validatePatch(patch) };
    await chrome.storage.local.set({ [SETTINGS_KEY]: storedSettings(next) });
    return next;
  });
  settingsWrites = update.catch(() => undefined);
  return update;
}

export function onSettingsChanged(listener: (settings: Settings) => void): () => void {
  const handler = (changes: Record<string, chrome.storage.StorageChange>, area: string) => {
    if (area === 'local' && SETTINGS_KEY in changes) listener(readSettings(changes[SETTINGS_KEY]!.newValue));
  };
  chrome.storage.onChanged.addListener(handler);
  return () => chrome.storage.onChanged.removeListener(handler);
}

// The network model's state (chrome.storage.local: which verified network bundle is in use, the last check).

export async function getNetworkState(): Promise<NetworkState> {
  return readNetworkState((await chrome.storage.local.get(NETWORK_KEY))[NETWORK_KEY]);
}

let networkWrites: Promise<unknown> = Promise.resolve();

/** Merges `patch` into the stored state, one update after another (progress and results come in quick succession). */
export function patchNetworkState(patch: Partial<NetworkState>): Promise<NetworkState> {
  const update = networkWrites.then(async () => {
    const next = { ...(await getNetworkState()), ...patch };
    await chrome.storage.local.set({ [NETWORK_KEY]: next });
    return next;
  });
  networkWrites = update.catch(() => undefined);
  return update;
}

export function onNetworkStateChanged(listener: (state: NetworkState) => void): () => void {
  const handler = (changes: Record<string, chrome.storage.StorageChange>, area: string) => {
    if (area === 'local' && NETWORK_KEY in changes) listener(readNetworkState(changes[NETWORK_KEY]!.newValue));
  };
  chrome.storage.onChanged.addListener(handler);
  return () => chrome.storage.onChanged.removeListener(handler);
}

// Alarms (the periodic network check: a service worker's timers do not survive it being stopped).

/** Creates (or, with null, clears) a repeating alarm; an existing one with the same period is left alone. */
export async function setAlarm(name: string, plan: { periodInMinutes: number } | null): Promise<void> {
  if (!plan) {
    await chrome.alarms.clear(name);
    return;
  }
  const existing = await chrome.alarms.get(name);
  if (existing?.periodInMinutes === plan.periodInMinutes) return;
  await chrome.alarms.create(name, { periodInMinutes: plan.periodInMinutes, delayInMinutes: plan.periodInMinutes });
}

export function onAlarm(name: string, listener: () => void): void {
  chrome.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === name) listener();
  });
}

// Wrong-verdict reports (chrome.storage.local: kept on this device until the user exports or clears them).

export async function getReports(): Promise<VerdictReceipt[]> {
  return readReports((await chrome.storage.local.get(REPORTS_KEY))[REPORTS_KEY]);
}

/** Saves a receipt; returns how many reports are kept now. */
export async function addReport(receipt: VerdictReceipt): Promise<number> {
  const next = appendReport(await getReports(), receipt);
  await chrome.storage.local.set({ [REPORTS_KEY]: next });
  return next.length;
}

export async function clearReports(): Promise<void> {
  await chrome.storage.local.remove(REPORTS_KEY);
}

export function onReportsChanged(listener: () => void): () => void {
  const handler = (changes: Record<string, chrome.storage.StorageChange>, area: string) => {
    if (area === 'local' && REPORTS_KEY in changes) listener();
  };
  chrome.storage.onChanged.addListener(handler);
  return () => chrome.storage.onChanged.removeListener(handler);
}

// Messaging. Handlers return a promise; the reply is always a Reply<T> so errors keep their stable code.

export interface Sender {
  tabId?: number;
  windowId?: number;
  frameId?: number;
  url?: string;
  /** The URL of the sender's tab (its top-level page), as the browser knows it: not something the page can claim. */
  tabUrl?: string;
}

type Handler = (message: unknown, sender: Sender) => Promise<unknown> | undefined;

/** Whether a message came from one of the extension's own pages (options, popup, offscreen), not a content script. */
export function fromExtensionPage(sender: Sender): boolean {
  return sender.url?.startsWith(chrome.runtime.getURL('')) === true;
}

/** The tab, frame and URL a message or port came from, as the rest of the extension sees them. */
function senderOf(sender: chrome.runtime.MessageSender | undefined): Sender {
  return {
    ...(sender?.tab?.id !== undefined ? { tabId: sender.tab.id, windowId: sender.tab.windowId } : {}),
    ...(sender?.tab?.url !== undefined ? { tabUrl: sender.tab.url } : {}),
    ...(sender?.frameId !== undefined ? { frameId: sender.frameId } : {}),
    ...(sender?.url !== undefined ? { url: sender.url } : {}),
  };
}

/** Registers a handler; returning undefined means "not mine" (another context answers that message). */
export function onMessage(handler: Handler): void {
  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
    const s = senderOf(sender);
    let pending: Promise<unknown> | undefined;
    try {
      pending = handler(message, s);
    } catch (e) {
      sendResponse(fail(codeOf(e), messageOf(e)));
      return false;
    }
    if (!pending) return false;
    pending.then(
      (value) => sendResponse(ok(value)),
      (e: unknown) => sendResponse(fail(codeOf(e), messageOf(e))),
    );
    return true;
  });
}

function unwrap<T>(reply: Reply<T> | undefined, what: string): T {
  if (!reply) throw Object.assign(new Error(`${what}: no reply`), { code: 'E_NO_TARGET' });
  if (!reply.ok) throw replyError(reply);
  return reply.value;
}

/** To the service worker (from content scripts and extension pages) or, with target: 'offscreen', the offscreen document. */
export async function sendToExtension<T>(message: unknown): Promise<T> {
  let reply: Reply<T> | undefined;
  try {
    reply = (await chrome.runtime.sendMessage(message)) as Reply<T> | undefined;
  } catch (e) {
    // "Receiving end does not exist": nobody is listening (yet, or any more).
    throw Object.assign(new Error(messageOf(e)), { code: 'E_NO_TARGET' });
  }
  return unwrap<T>(reply, 'extension');
}

/**
 * A long-lived channel (Port) to the service worker, for requests a content script sends many of (one per image).
 * Each runtime.sendMessage opens and closes a channel of its own, and that costs the page's main thread (measured:
 * 0.5 ms on average, single calls up to 15 ms, on a 200-image page); a message on an open port is a plain post.
 * The port is opened on first use and again after it closes (the service worker stopped: what was waiting fails
 * with E_NO_TARGET and the caller may retry).
 */
export function extensionChannel(name: string, timeoutMs = 300_000): <T>(message: unknown) => Promise<T> {
  const pending = new PendingRequests(timeoutMs);
  let port: chrome.runtime.Port | null = null;
  const connect = (): chrome.runtime.Port => {
    const p = chrome.runtime.connect({ name });
    p.onMessage.addListener((m: unknown) => {
      if (isReplyEnvelope(m)) pending.settle(m);
    });
    p.onDisconnect.addListener(() => {
      if (port === p) port = null;
      pending.failAll('E_NO_TARGET', `the extension closed the ${name} channel`);
    });
    return p;
  };
  return <T>(message: unknown): Promise<T> => {
    const { envelope, result } = pending.open<T>(message);
    try {
      port ??= connect();
      port.postMessage(envelope);
    } catch (e) {
      // The extension was reloaded or disabled under this page: its context is gone for good.
      port = null;
      pending.failAll('E_NO_TARGET', messageOf(e));
    }
    return result;
  };
}

/** Answers requests arriving on channels named `name` (see extensionChannel), one reply per request, with codes. */
export function onChannelRequest(name: string, handler: (message: unknown, sender: Sender) => Promise<unknown>): void {
  chrome.runtime.onConnect.addListener((port) => {
    if (port.name !== name) return;
    const sender = senderOf(port.sender);
    let open = true;
    port.onDisconnect.addListener(() => (open = false));
    port.onMessage.addListener((m: unknown) => {
      if (!isRequestEnvelope(m)) return;
      const answer = (reply: Reply<unknown>) => {
        // The page navigated away meanwhile: nobody is waiting for this reply.
        if (open) port.postMessage({ id: m.id, reply });
      };
      Promise.resolve()
        .then(() => handler(m.message, sender))
        .then(
          (value) => answer(ok(value)),
          (e: unknown) => answer(fail(codeOf(e), messageOf(e))),
        );
    });
  });
}

export async function sendToTab<T>(tabId: number, message: unknown, frameId = 0): Promise<T> {
  return unwrap<T>((await chrome.tabs.sendMessage(tabId, message, { frameId })) as Reply<T> | undefined, `tab ${tabId}`);
}

// Tabs.

export interface TabInfo {
  id: number;
  windowId: number;
  url: string;
}

export async function activeTab(): Promise<TabInfo | null> {
  const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
  return tab?.id !== undefined ? { id: tab.id, windowId: tab.windowId, url: tab.url ?? '' } : null;
}

export async function tabById(id: number): Promise<TabInfo | null> {
  try {
    const tab = await chrome.tabs.get(id);
    return { id, windowId: tab.windowId, url: tab.url ?? '' };
  } catch {
    return null;
  }
}

/** A PNG of the visible part of a tab: the only way to read a cross-origin video frame the page itself cannot. */
export function captureVisibleTab(windowId: number): Promise<string> {
  return chrome.tabs.captureVisibleTab(windowId, { format: 'png' });
}

// The offscreen document that owns the ONNX Runtime session.

let offscreen: Promise<void> | null = null;

/**
 * Creates the offscreen document once. Concurrent callers share one attempt: two createDocument calls racing would
 * fail the second ("only a single offscreen document"), and with it a scan.
 */
export function ensureOffscreenDocument(path: string): Promise<void> {
  offscreen ??= (async () => {
    const url = chrome.runtime.getURL(path);
    const existing = await chrome.runtime.getContexts({
      contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT],
      documentUrls: [url],
    });
    if (existing.length > 0) return;
    try {
      await chrome.offscreen.createDocument({
        url: path,
        reasons: [chrome.offscreen.Reason.WORKERS, chrome.offscreen.Reason.BLOBS],
        justification: 'Runs the Veracity detector (ONNX Runtime, WebGPU or WASM) on media from the pages you browse, on-device.',
      });
    } catch (e) {
      if (!/single offscreen/i.test(messageOf(e))) throw e;
    }
  })().catch((e: unknown) => {
    offscreen = null;
    throw e;
  });
  return offscreen;
}

/** Forget the offscreen document (it was closed): the next ensureOffscreenDocument checks and recreates it. */
export function offscreenGone(): void {
  offscreen = null;
}

// Context menu.

export interface MenuClick {
  menuItemId: string | number;
  srcUrl?: string;
  mediaType?: string;
  pageUrl?: string;
}

export function createContextMenu(id: string, title: string): void {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({ id, title, contexts: ['image', 'video'] });
  });
}

export function onContextMenuClick(listener: (click: MenuClick, tab: TabInfo | null) => void): void {
  chrome.contextMenus.onClicked.addListener((info, tab) => {
    listener(
      {
        menuItemId: info.menuItemId,
        ...(info.srcUrl !== undefined ? { srcUrl: info.srcUrl } : {}),
        ...(info.mediaType !== undefined ? { mediaType: info.mediaType } : {}),
        ...(info.pageUrl !== undefined ? { pageUrl: info.pageUrl } : {}),
      },
      tab?.id !== undefined ? { id: tab.id, windowId: tab.windowId, url: tab.url ?? '' } : null,
    );
  });
}

export function onInstalledOrStartup(listener: () => void): void {
  chrome.runtime.onInstalled.addListener(() => listener());
  chrome.runtime.onStartup.addListener(() => listener());
}

export function openOptionsPage(): Promise<void> {
  return chrome.runtime.openOptionsPage();
}
