// The model a scan would use now, for the popup and the options page: the verified network bundle while the network
// model is on (its stored record), else the bundled one (the package's own manifest, an extension URL: nothing
// leaves the browser). Its operating point is what the threshold falls back to when the user has set none.
import { isThreshold } from '@veracity/protocol/domain';
import { useEffect, useState } from 'preact/hooks';
import { EMPTY_NETWORK_STATE, type NetworkModelRef, networkModelInUse } from './core/network/state.js';
import type { Settings } from './core/settings.js';
import { extensionUrl, getNetworkState, onNetworkStateChanged } from './platform.js';

export interface ModelInUse {
  id: string;
  version: string;
  /** The bundle's operating point (calibration.threshold), absent when it names none. */
  threshold?: number;
  network?: NetworkModelRef;
}

export function useModelInUse(settings: Settings): ModelInUse | null {
  const [state, setState] = useState({ ...EMPTY_NETWORK_STATE });
  const [bundled, setBundled] = useState<ModelInUse | null>(null);
  useEffect(() => {
    void getNetworkState().then(setState);
    void fetch(extensionUrl('bundle/manifest.json'))
      .then((r) => r.json() as Promise<{ id: string; version: string; calibration?: { threshold?: unknown } }>)
      .then((m) =>
        setBundled({
          id: m.id,
          version: m.version,
          ...(isThreshold(m.calibration?.threshold) ? { threshold: m.calibration.threshold } : {}),
        }),
      )
      .catch(() => undefined);
    return onNetworkStateChanged(setState);
  }, []);
  const net = networkModelInUse(settings, state);
  if (net)
    return {
      id: net.id,
      version: net.version,
      ...(net.threshold !== undefined ? { threshold: net.threshold } : {}),
      network: net,
    };
  return bundled;
}
