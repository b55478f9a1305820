// main.js — starts the console: header (navigation, language switch, live
// indicator), the router and the live poller.
import { t, getLang, setLang, locale } from './i18n.js';
import { h } from './dom.js';
import { startRouter, rerender, refresh } from './router.js';
import { startLive, redrawLive } from './live.js';

const SECTIONS = ['products', 'groups', 'apps', 'tasks'];
let section = 'products';

function drawHeader() {
  document.documentElement.lang = locale();
  document.getElementById('brand-text').textContent = t('app.brand');
  const skip = document.getElementById('skip');
  skip.textContent = t('app.skip');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('app.nav'));
  nav.replaceChildren(
    ...SECTIONS.map((s) =>
      h('a', { href: `#/${s}`, class: 'nav-link', 'aria-current': s === section ? 'page' : null }, t(`nav.${s}`)),
    ),
  );
  const lang = document.getElementById('lang');
  lang.textContent = getLang() === 'zh' ? 'English' : '中文';
  lang.setAttribute('lang', getLang() === 'zh' ? 'en' : 'zh-CN');
  lang.setAttribute('aria-label', t('app.switchLang'));
  redrawLive();
}

function init() {
  const main = document.getElementById('main');
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  document.getElementById('lang').addEventListener('click', () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    drawHeader();
    rerender();
    document.getElementById('lang').focus();
  });
  drawHeader();
  startRouter(main, (s) => {
    section = s;
    drawHeader();
  });
  startLive(document.getElementById('live'), () => refresh());
}

init();
