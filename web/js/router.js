// router.js — hash routing (#/products, #/products/PK, #/devices?status=…,
// #/apps/ID, #/tasks/ID, #/ota?productKey=…, #/ota/jobs/ID, #/rollouts/ID,
// #/faults…). A screen
// module exports mount(main, params, query) → {refresh(), unmount()}
// (query: the URLSearchParams after "?" in the hash); the router mounts one
// at a time and refreshes it when live data changed. The section names the
// menu entry that is marked current.
import * as products from './screens/products.js';
import * as product from './screens/product.js';
import * as device from './screens/device.js';
import * as devices from './screens/devices.js';
import * as groups from './screens/groups.js';
import * as group from './screens/group.js';
import * as apps from './screens/apps.js';
import * as app from './screens/app.js';
import * as tasks from './screens/tasks.js';
import * as task from './screens/task.js';
import * as ota from './screens/ota.js';
import * as otaJob from './screens/ota_job.js';
import * as rollouts from './screens/rollouts.js';
import * as rollout from './screens/rollout.js';
import * as faults from './screens/faults.js';

const ROUTES = [
  [/^\/products$/, products, 'products'],
  [/^\/products\/([^/]+)$/, product, 'products'],
  [/^\/products\/([^/]+)\/devices\/([^/]+)$/, device, 'devices'],
  [/^\/devices$/, devices, 'devices'],
  [/^\/groups$/, groups, 'groups'],
  [/^\/groups\/([^/]+)$/, group, 'groups'],
  [/^\/apps$/, apps, 'apps'],
  [/^\/apps\/([^/]+)$/, app, 'apps'],
  [/^\/tasks$/, tasks, 'tasks'],
  [/^\/tasks\/([^/]+)$/, task, 'tasks'],
  [/^\/ota$/, ota, 'ota'],
  [/^\/ota\/jobs\/([^/]+)$/, otaJob, 'ota'],
  [/^\/rollouts$/, rollouts, 'rollouts'],
  [/^\/rollouts\/([^/]+)$/, rollout, 'rollouts'],
  [/^\/faults$/, faults, 'faults'],
];

let main = null;
let current = null;
let onRoute = () => {};
let running = null;
let again = false;

function render(fromNavigation) {
  const [hashPath, hashQuery = ''] = location.hash.replace(/^#/, '').split('?');
  const path = hashPath || '/';
  let found = null;
  for (const [re, mod, section] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      found = { mod, section, params: m.slice(1).map((p) => decodeURIComponent(p)) };
      break;
    }
  }
  if (!found) {
    location.replace('#/products');
    return;
  }
  if (current && current.unmount) current.unmount();
  main.replaceChildren();
  current = found.mod.mount(main, found.params, new URLSearchParams(hashQuery)) || {};
  onRoute(found.section);
  if (fromNavigation) main.focus({ preventScroll: false });
}

export function startRouter(mainEl, routeListener) {
  main = mainEl;
  onRoute = routeListener;
  window.addEventListener('hashchange', () => render(true));
  render(false);
}

// Re-mounts the current screen (after a language switch).
export function rerender() {
  render(false);
}

// Refreshes the current screen's data; calls that arrive while one runs are
// folded into one more run after it.
export async function refresh() {
  if (running) {
    again = true;
    return running;
  }
  do {
    again = false;
    const screen = current;
    running = Promise.resolve(screen && screen.refresh ? screen.refresh() : null).catch(() => {});
    await running;
  } while (again);
  running = null;
}

export function go(hash) {
  location.hash = hash;
}
