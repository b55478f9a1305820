// main.js — starts the console: header (live indicator, sign-out, language
// switch), the left menu in the real console's groups (设备管理: 产品, 设备;
// 升级服务: 应用升级, 固件升级, 分批发布, 测试设备分组, 测试任务; 测试工具: 故障注入),
// the emulator's clock, the sign-in panel when haas-emu wants its token, the
// router and the live poller.
import { t, getLang, setLang, locale } from './i18n.js';
import { h } from './dom.js';
import { startRouter, rerender, refresh } from './router.js';
import { startLive, redrawLive } from './live.js';
import { authNeeded, onAuthChange, hasToken, forgetToken } from './auth.js';
import { startClock, loadClock, redrawClock } from './clock.js';
import { drawSignIn } from './signin.js';

const MENU = [
  { group: 'devices', items: ['products', 'devices'] },
  { group: 'upgrade', items: ['apps', 'ota', 'rollouts', 'groups', 'tasks'] },
  { group: 'testbench', items: ['faults'] },
];
let section = 'products';

function drawNav() {
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('app.nav'));
  nav.replaceChildren(
    ...MENU.map(({ group, items }) => {
      const id = `nav-group-${group}`;
      return h(
        'div',
        { class: 'nav-group' },
        h('p', { class: 'nav-group-title', id }, t(`nav.group.${group}`)),
        h(
          'ul',
          { class: 'nav-list', 'aria-labelledby': id },
          items.map((s) => h('li', null, h('a', { href: `#/${s}`, class: 'nav-link', 'aria-current': s === section ? 'page' : null }, t(`nav.${s}`)))),
        ),
      );
    }),
  );
}

function drawHeader() {
  document.documentElement.lang = locale();
  document.getElementById('brand-text').textContent = t('app.brand');
  const skip = document.getElementById('skip');
  skip.textContent = t('app.skip');
  drawNav();
  const signout = document.getElementById('signout');
  signout.textContent = t('auth.signOut');
  signout.hidden = !hasToken() || authNeeded();
  const lang = document.getElementById('lang');
  lang.textContent = getLang() === 'zh' ? 'English' : '中文';
  lang.setAttribute('lang', getLang() === 'zh' ? 'en' : 'zh-CN');
  lang.setAttribute('aria-label', t('app.switchLang'));
  redrawLive();
  redrawClock();
}

// The sign-in panel replaces the screens while haas-emu wants the token.
function showAuth() {
  const panel = document.getElementById('signin');
  const main = document.getElementById('main');
  const needed = authNeeded();
  const wasShown = !panel.hidden;
  panel.hidden = !needed;
  main.hidden = needed;
  if (needed) {
    if (!wasShown) drawSignIn(panel);
  } else if (wasShown) {
    panel.replaceChildren();
    rerender();
    main.focus();
  }
  drawHeader();
}

function init() {
  const main = document.getElementById('main');
  const panel = document.getElementById('signin');
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    (authNeeded() ? panel : main).focus();
  });
  document.getElementById('lang').addEventListener('click', () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    drawHeader();
    // While signed out the screen is redrawn once the token is accepted.
    if (authNeeded()) drawSignIn(panel);
    else rerender();
    document.getElementById('lang').focus();
  });
  document.getElementById('signout').addEventListener('click', () => {
    forgetToken();
    location.reload();
  });
  onAuthChange(showAuth);
  drawHeader();
  startRouter(main, (s) => {
    section = s;
    drawHeader();
  });
  startLive(document.getElementById('live'), () => {
    refresh();
    loadClock();
  });
  startClock(document.getElementById('clock'));
}

init();
