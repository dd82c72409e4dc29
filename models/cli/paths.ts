import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './usage.js';

/** The committed detector when it is there, else the tiny test fixture (so tools run on a fresh clone either way). */
export function defaultBundleDir(): string {
  const detector = fileURLToPath(new URL('../bundle/', import.meta.url));
  return existsSync(`${detector}manifest.json`) ? detector : fileURLToPath(new URL('../fixtures/tiny/', import.meta.url));
}

/** A CLI's --bundle value (default: defaultBundleDir()); a folder without manifest.json is a UsageError. */
export function bundleFlag(value: string | undefined): string {
  const bundle = value ?? defaultBundleDir();
  if (!/^https?:\/\//i.test(bundle) && !existsSync(join(bundle, 'manifest.json')))
    throw new UsageError(
      `no model bundle at ${bundle} (no manifest.json)`,
      'pass --bundle a folder with manifest.json and model.onnx, or leave it out for the shipped models/bundle',
    );
  return bundle;
}
