import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The committed detector when it is there, else the tiny test fixture (so tools run on a fresh clone either way). */
export function defaultBundleDir(): string {
  const detector = fileURLToPath(new URL('../bundle/', import.meta.url));
  return existsSync(`${detector}manifest.json`) ? detector : fileURLToPath(new URL('../fixtures/tiny/', import.meta.url));
}
