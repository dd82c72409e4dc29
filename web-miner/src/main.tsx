import { render } from 'preact';
import { App } from './ui/app.js';
import { Controller } from './controller.js';
import './ui/style.css';

const controller = await Controller.fromPage();
render(<App controller={controller} />, document.getElementById('app')!);
// Background tabs run timers late; when the tab returns, catch up at once. Pongs never wait on timers (see session).
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') controller.nudge();
});
void controller.loadModel();
void controller.detectWallet();
