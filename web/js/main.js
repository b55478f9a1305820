// main.js — starts the console: header (live indicator, language switch),
// the left menu in the real console's groups (设备管理: 产品, 设备; 升级服务:
// 应用升级, 测试设备分组, 测试任务), the router and the live poller.
import { t, getLang, setLang, locale } from './i18n.js';
import { h } from './dom.js';
import { startRouter, rerender, refresh } from './router.js';
import { startLive, redrawLive } from './live.js';

const MENU = [
  { group: 'devices', items: ['products', 'devices'] },
  { group: 'upgrade', items: ['apps', 'groups', 'tasks'] },
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
