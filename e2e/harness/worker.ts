import { exposeDetector } from '@veracity/models/worker';

exposeDetector();
