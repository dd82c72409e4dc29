/** One collector per media kind: it finds its elements on the page and hands them to the scanner while started. */
export interface Collector {
  start(): void;
  stop(): void;
}
